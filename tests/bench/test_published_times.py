"""bench/published_times.py: the board's per-split translation times and flag shares, from its manifests."""

from __future__ import annotations

import json

from support import bench as bench_script


def load_bench():
    return bench_script.load("published_times")


def manifest(folder, split, chars, seconds, share, **extra):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}.manifest.json").write_text(json.dumps({
        "language": folder.name, "split": split, "duration_s": seconds, "chars": {"sent": chars},
        "counts": {"questions": 3, "strings": 15, "distinct": 14}, "checks": {"flagged": {"share": share}}, **extra}))


def test_times_and_flags_per_split_and_language(tmp_path, capsys):
    bench = load_bench()
    manifest(tmp_path / "translations" / "local" / "bn", "dev", 1200, 60.0, 0.25)
    manifest(tmp_path / "translations" / "local" / "bn", "test", 600, 60.0, 0.125)
    df = bench.table(tmp_path)
    assert list(df["chars/s"]) == [20.0, 10.0] and list(df["flagged %"]) == [25.0, 12.5]
    assert bench.main([str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert last == ["local", "bn", "30", "1800", "2.0"]  # strings, chars and minutes summed over the splits


def test_a_split_made_in_pieces_counts_every_piece(tmp_path):
    # the last piece sent 300 characters in 30 s; with the earlier pieces, 1,200 in 90 s
    manifest(tmp_path / "translations" / "local" / "it", "test", 300, 30.0, 0.0,
             effort={"duration_s": 90.0, "chars_sent": 1200})
    row = load_bench().table(tmp_path).iloc[0]
    assert (row["sent chars"], row["time s"], row["chars/s"]) == (1200, 90.0, 1200 / 90)


def test_no_manifests_is_one_line_and_exit_2(tmp_path, capsys):
    assert load_bench().main([str(tmp_path)]) == 2
    assert "STEP=translate" in capsys.readouterr().err


def test_scoring_time_per_model_and_language(tmp_path, capsys):
    manifest(tmp_path / "translations" / "local" / "de", "test", 300, 30.0, 0.0)
    (tmp_path / "evaluation.manifest.json").write_text(json.dumps({"m-1/gpt4": {"languages": {
        "en": {"n": 285, "effort": {"duration_s": 570.0, "answered": 285, "runs": 2}},
        "de": {"n": 285, "effort": {"duration_s": 3.0, "answered": 0, "runs": 1}},
        "fr": {"n": 285}}}}))  # fr: scored before effort was recorded
    df = load_bench().scoring(tmp_path)
    assert list(df["language"]) == ["en", "de"] and df.loc[0, "s/question"] == 2.0
    assert df.loc[1, "s/question"] != df.loc[1, "s/question"]  # nothing answered: no pace (NaN)
    assert load_bench().main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-2].split() == ["m-1", "en", "285", "285", "2", "570.0", "2.0"]
