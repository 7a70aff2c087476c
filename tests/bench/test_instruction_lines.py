"""bench/instruction_lines.py: per language and kind, what the line checks flagged and how each line was put right."""

from __future__ import annotations

import json

from support import bench as bench_script


def test_counts_each_way_a_line_was_settled(tmp_path, capsys):
    bench = bench_script.load("instruction_lines")
    folder = tmp_path / "translations" / "local" / "de"
    folder.mkdir(parents=True)
    (folder / "dev.manifest.json").write_text("{}")
    (folder / "instructions.json").write_text(json.dumps({
        "gopher": {"a": "kept", "b": "variant b", "c": "named c", "d": "first d"}, "cot": {"a": "x"},
        "retranslated": {
            "gopher/b": {"first": "first b", "again": "variant b", "checks": ["subject_named"]},
            "gopher/c": {"first": "first c", "again": "variant c", "named": "named c", "checks": ["frame_lost"]},
            "gopher/d": {"first": "first d", "again": "variant d", "checks": ["subject_named", "loops"]}}}))
    df = bench.table(tmp_path).set_index("kind")
    assert df.loc["gopher", ["lines", "flagged", "variant", "name in English", "still flagged"]].tolist() == [4, 3, 1, 1, 1]
    assert df.loc["gopher", "by check"] == "frame_lost 1, loops 1, subject_named 2"
    assert df.loc["cot", "flagged"] == 0
    assert bench.main([str(tmp_path)]) == 0 and "subject_named 2" in capsys.readouterr().out
