"""Translation sensitivity: two translations of one language scored on the same ids, their paired difference
and its interval (translators.csv), and an imported set's per-question tags (scores_by_tag.csv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mmlu_ml.core import mmlu, stats
from mmlu_ml.evaluate import models as model_registry
from mmlu_ml.evaluate.scores import translator_pair
from support.stages import run_evaluate
from mmlu_ml.imports.stage import run_import
from support import models
from support.translated_sets import global_folder

TINY = "astronomy,virology"


def rows(correct: list[bool], predicted: str = "ABCD") -> dict[str, dict]:
    return {f"s/test/{i}": {"correct": c, "predicted": predicted[i % 4], "error": None} for i, c in enumerate(correct)}


def test_pair_arithmetic_on_a_hand_computed_case():
    en = rows([True, True, True, False, True, False])
    a = rows([True, False, True, False, False, False])                      # 2 of 6
    b = rows([True, True, False, True, True, False], predicted="ABDACD")    # 4 of 6; answers differ on ids 2, 3
    b["s/test/5"]["error"] = "timeout"  # an error leaves the id out of every comparison
    r = translator_pair(en, a, b)
    assert (r["n"], r["n_a"], r["n_b"]) == (5, 6, 5)
    assert (r["accuracy_en"], r["accuracy_a"], r["accuracy_b"]) == (4 / 5, 2 / 5, 4 / 5)
    assert r["diff_a_b"] == pytest.approx(-2 / 5) and r["diff_a_en"] == pytest.approx(-2 / 5)
    assert r["answers_changed"] == 2
    # the same intervals as stats gives for the 2x2 tables written out by hand
    pairs_ab = [(True, True), (False, True), (True, False), (False, True), (False, True)]
    assert (r["diff_a_b_low"], r["diff_a_b_high"]) == stats.paired_difference(pairs_ab)[2:]
    assert (r["a_low"], r["a_high"]) == stats.wilson(2, 5)
    assert r["diff_a_b_low"] < r["diff_a_b"] < r["diff_a_b_high"]


def okapi_set(root: Path, source: Path, tag: str) -> Path:
    for split in ("dev", "val"):
        qs = mmlu.load(str(source), TINY.split(","), [split]).questions
        data = [{"id": q.id, "instruction": f"{tag} {q.question}",
                 **{f"option_{L.lower()}": f"{tag} {c}" for L, c in zip("ABCD", q.choices)}, "answer": q.answer}
                for q in qs if q.id != "virology/val/3" or tag == "[b]"]  # set a dropped a row, as Okapi does
        root.mkdir(parents=True, exist_ok=True)
        (root / f"fr_{split}.json").write_text(json.dumps(data), encoding="utf-8")
    return root


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_two_translations_on_the_same_ids(tmp_path, tiny_source, monkeypatch):
    monkeypatch.setitem(model_registry.MODELS, "hash", "support.models:HashModel")
    out = tmp_path / "out"
    for name in ("a", "b"):
        src = okapi_set(tmp_path / name, tiny_source, f"[{name}]")
        run_import("okapi", str(src), "fr", "dev,val", name=name, out=out, mmlu_source=str(tiny_source), subjects=TINY)
    common = dict(source=str(tiny_source), subjects=TINY, splits="val", cache_dir=str(tmp_path / "cache"),
                  out=str(out), model="hash:h", model_concurrency=1)
    run_evaluate(languages="en", **common)
    run_evaluate(languages="fr", eval_translator="a", **common)
    models.HashModel.reset()
    run_evaluate(languages="fr", eval_translator="a,b", **common)  # a is scored already: only b is asked
    assert models.HashModel.asked and all(s.startswith("[b]") for s in models.HashModel.asked)
    (row,) = read_csv(out / "translators.csv")
    predictions = [json.loads(line) for line in (out / "predictions" / "hash" / "gpt4" / "fr.jsonl").open()]
    by = {name: {p["id"]: p for p in predictions if p["translator"] == name} for name in ("a", "b")}
    english = {json.loads(line)["id"]: json.loads(line) for line in (out / "predictions" / "hash" / "gpt4" / "en.jsonl").open()}
    ids = sorted(set(by["a"]) & set(by["b"]))
    assert len(by["a"]) == 7 and len(by["b"]) == 8 and len(ids) == 7  # a's coverage: the dropped row is not scored
    assert (row["translator_a"], row["translator_b"], int(row["n"])) == ("a", "b", 7)
    acc = {k: sum(v[i]["correct"] for i in ids) / 7 for k, v in (("a", by["a"]), ("b", by["b"]), ("en", english))}
    assert float(row["accuracy_a"]) == pytest.approx(acc["a"], abs=1e-6)
    assert float(row["accuracy_b"]) == pytest.approx(acc["b"], abs=1e-6)
    assert float(row["diff_a_b"]) == pytest.approx(acc["a"] - acc["b"], abs=1e-6)
    assert float(row["diff_b_en"]) == pytest.approx(acc["b"] - acc["en"], abs=1e-6)
    assert int(row["answers_changed"]) == sum(by["a"][i]["predicted"] != by["b"][i]["predicted"] for i in ids)
    # scores.csv keeps the first translation named; the shots of a set that lacks a row are the first it has
    scores = {r["language"]: r for r in read_csv(out / "scores.csv")}
    assert scores["fr"]["n"] == "7" and scores["fr"]["signature"].startswith("protocol:gpt4|shots:3|translator:a")


def test_tags_of_an_imported_set_group_the_scores(tmp_path, tiny_source, monkeypatch):
    monkeypatch.setitem(model_registry.MODELS, "hash", "support.models:HashModel")
    out = tmp_path / "out"
    run_import("global-mmlu", str(global_folder(tmp_path / "gm", tiny_source)), "fr", name="gm", out=out,
               mmlu_source=str(tiny_source), subjects=TINY)
    run_evaluate(source=str(tiny_source), languages="en,fr", subjects=TINY, splits="test",
                 cache_dir=str(tmp_path / "cache"), out=str(out), model="hash:h", model_concurrency=1)
    tags = read_csv(out / "scores_by_tag.csv")
    cs = {(r["language"], r["value"]): r for r in tags if r["tag"] == "cultural_sensitivity_label"}
    assert set(cs) == {("en", "CA"), ("en", "CS"), ("fr", "CA"), ("fr", "CS")}
    assert all(r["n"] == "4" for r in cs.values())  # odd rows CS, even CA, 4 + 4 test questions
    assert not any(r["tag"] == "required_knowledge" and r["value"] == "" for r in tags)
    fr = [json.loads(line) for line in (out / "predictions" / "hash" / "gpt4" / "fr.jsonl").open()]
    k = sum(p["correct"] for p in fr if p["tags"]["cultural_sensitivity_label"] == "CS")
    assert int(cs[("fr", "CS")]["correct"]) == k


def test_report_draws_and_tables_the_sensitivity_and_the_tags(tmp_path, tiny_source, monkeypatch):
    test_two_translations_on_the_same_ids(tmp_path, tiny_source, monkeypatch)
    from mmlu_ml.report.stage import run_report

    out = tmp_path / "out"
    paths = run_report(out, screenshot=False).paths
    assert "translators.svg" in paths and (out / "report" / "translators.png").stat().st_size > 1000
    md = (out / "report" / "leaderboard.md").read_text(encoding="utf-8")
    (row,) = read_csv(out / "translators.csv")
    section = md.split("## Translation sensitivity", 1)[1]
    assert f"{100 * float(row['accuracy_a']):.1f}" in section and f"{100 * float(row['diff_a_b']):+.1f}" in section
    html = (out / "report" / "leaderboard.html").read_text(encoding="utf-8")
    assert '<table class="sortable" id="translators">' in html
    quality = (out / "report" / "translation_quality.md").read_text(encoding="utf-8")
    assert "a" in quality and "b" in quality and "flagged" in quality  # imported sets beside each other


def test_sensitivity_chart_names_every_bar_and_the_whole_model():
    from mmlu_ml.report import sensitivity

    model = "llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m"  # longer than a label line: it must wrap, not be cut
    pair = {"model": model, "protocol": "gpt4", "language": "de", "translator_a": "okapi",
            "translator_b": "local", "n": 88, "answers_changed": 31,
            **{k: v for k, v in zip(("accuracy_en", "en_low", "en_high", "accuracy_a", "a_low", "a_high",
                                     "accuracy_b", "b_low", "b_high"),
                                    (.432, .33, .53, .341, .25, .44, .35, .26, .45))}}
    ax = sensitivity.draw([pair]).axes[0]
    (label,) = [t.get_text() for t in ax.get_yticklabels()]
    assert label.replace("\n", "") == f"de, n=88{model}"
    assert [t.get_text() for t in ax.texts] == ["43.2  English", "34.1  okapi", "35.0  local"]
