"""bench/evaluate_speed.py on a tiny workload (Gemma 270M, 2 subjects x 2 questions): it runs, counts, compares."""

from __future__ import annotations

import json

from support import bench as bench_script


def load_bench():
    return bench_script.load("evaluate_speed")


def test_bench_runs_ours_and_naive_and_reads_lmeval(tmp_path, mmlu_dir, capsys):
    bench = load_bench()
    common = ["--model", "gemma-3-270m-q4_k_m", "--subjects", "marketing,sociology", "--questions", "2",
              "--source", str(mmlu_dir), "--shots", "2"]
    questions = tmp_path / "q.jsonl"
    bench.main(common + ["--write-questions", str(questions)])
    rows = [json.loads(line) for line in questions.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["marketing/test/0", "marketing/test/1", "sociology/test/0", "sociology/test/1"]
    assert rows[0]["prefix"].startswith("The following are multiple choice questions (with answers) about marketing.")
    lmeval = tmp_path / "lmeval.json"
    lmeval.write_text(json.dumps({"questions": 4, "seconds": 100.0, "peak_rss_mb": 900,
                                  "predictions": {r["id"]: "A" for r in rows}}))
    result = bench.main(common + ["--output", str(tmp_path / "out.json"), "--lmeval-results", str(lmeval)])
    ours, naive, floor = result["runs"]["ours"], result["runs"]["naive"], result["rows"]["floor"]
    assert ours["questions"] == naive["questions"] == 4 and ours["errors"] == 0
    assert naive["evaluated_tokens"] == ours["full_tokens"] > floor["evaluated_tokens"]
    assert ours["evaluated_tokens"] <= 1.05 * floor["evaluated_tokens"]
    assert result["checks"]["agreement_with_naive"] >= 0.75 and 0 < ours["peak_rss_mb"] < 3072
    assert result["rows"]["lm-eval"]["questions_per_s"] == 0.04
    assert result["rows"]["lm-eval"]["agreement_with_naive"] == sum(p == "A" for p in naive["predictions"].values()) / 4
    assert json.loads((tmp_path / "out.json").read_text())["checks"] == result["checks"]
    assert "| ours |" in capsys.readouterr().out
    # row (c) added later to the same runs, without running them again; another workload is refused
    again = bench.main(common + ["--modes", "", "--previous", str(tmp_path / "out.json"), "--lmeval-results", str(lmeval)])
    assert again["rows"] == result["rows"] and again["measured_at"]["ours"] == result["created"]
    try:
        bench.main(common[:-4] + ["--questions", "1", "--source", str(mmlu_dir), "--shots", "2", "--modes", "",
                                  "--previous", str(tmp_path / "out.json")])
    except SystemExit as exc:
        assert "another workload" in str(exc)
    else:
        raise AssertionError("a previous file of another workload was accepted")
