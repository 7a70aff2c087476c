"""Evaluate stage: scoring, resuming, caching, result files and bad inputs, with models whose answers are known."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest

from support import models
from conftest import assert_one_line_error, cli
from mmlu_ml.core import mmlu, protocols
from mmlu_ml.evaluate import models as backends
from mmlu_ml.core.errors import MmluMlError
from support.stages import run_evaluate
from mmlu_ml.core.paths import predictions_file, translations_dir
from mmlu_ml.core.records import Question, read_jsonl, write_json, write_jsonl
from mmlu_ml.core.artifacts import CATEGORY_COLUMNS, CHECK_COLUMNS, PAIRED_COLUMNS, SCORE_COLUMNS
from mmlu_ml.evaluate.scores import add_effort

SUBJECTS = ["astronomy", "virology"]


@pytest.fixture(autouse=True)
def test_models(monkeypatch):
    for name, cls in (("oracle", "OracleModel"), ("constant", "ConstantModel"), ("scripted", "ScriptedModel"),
                      ("interrupting", "InterruptingOracle"), ("hash", "HashModel"), ("flaky", "FlakyModel")):
        monkeypatch.setitem(backends.MODELS, name, f"support.models:{cls}")
        getattr(models, cls).reset()
    models.InterruptingOracle.calls = 0


def translated(q: Question, lang: str) -> Question:
    return Question(q.subject, q.split, q.index, f"[{lang}] {q.question}", tuple(f"[{lang}] {c}" for c in q.choices),
                    q.answer, lang)


def write_translation(out, source, lang, translator="fake", subjects=SUBJECTS, splits=("dev", "test"), keep=None,
                      instructions=True):
    ds = mmlu.load(str(source), subjects, list(splits))
    folder = translations_dir(out, translator, lang)
    for split in splits:
        rows = [translated(q, lang).to_json() for q in ds.by_split(split) if keep is None or keep(q)]
        write_jsonl(folder / f"{split}.jsonl", rows)
        write_json(folder / f"{split}.manifest.json",
                   {"translator": {"backend": translator, "model": "mt-1", "prompt_version": 2}, "language": lang})
    if instructions:
        write_json(folder / "instructions.json", {
            "gopher": {s: f"[{lang}] gopher line about {s}" for s in subjects},
            "cot": {s: f"[{lang}] think about {s}" for s in subjects}})
    return folder


def answers_file(tmp_path, source, langs=("en",), value=lambda q: q.answer, name="answers.json"):
    table = {}
    for q in mmlu.load(str(source), SUBJECTS, ["test"]).questions:
        for lang in langs:
            text = q.question if lang == "en" else translated(q, lang).question
            table[text] = value(q)
    path = tmp_path / name
    path.write_text(json.dumps(table), encoding="utf-8")
    return path


def run(tmp_path, source, model, **kw):
    args = dict(source=str(source), languages="en", subjects=",".join(SUBJECTS), splits="test", limit=None,
                cache_dir=str(tmp_path / "cache"), out=str(tmp_path / "out"), model=model, model_concurrency=1)
    args.update(kw)
    return run_evaluate(**args).rows


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_oracle_scores_100_percent_in_english_and_translation(tmp_path, tiny_source):
    write_translation(tmp_path / "out", tiny_source, "de")
    spec = answers_file(tmp_path, tiny_source, ("en", "de"))
    rows = run(tmp_path, tiny_source, f"oracle:{spec}", languages="en,de")
    assert [(r["language"], r["n"], r["correct"], r["accuracy"]) for r in rows] == [
        ("en", 8, 8, 1.0), ("de", 8, 8, 1.0)]
    table = read_csv(tmp_path / "out" / "scores.csv")
    assert list(table[0]) == list(SCORE_COLUMNS)
    de = next(r for r in table if r["language"] == "de")
    assert de["translator"] == "fake(mt-1,p2)" and float(de["ci_low"]) > 0.6 and de["ci_high"] == "1.000000"
    assert de["signature"].startswith("protocol:gpt4|shots:3|translator:fake(mt-1,p2)|model:oracle@")
    assert de["signature"].endswith("|n:8/8|v:0.1.0") and de["questions_total"] == "8"
    paired = read_csv(tmp_path / "out" / "paired.csv")
    assert list(paired[0]) == list(PAIRED_COLUMNS)
    assert paired[0]["language"] == "de" and paired[0]["n_paired"] == "8" and float(paired[0]["diff"]) == 0.0
    assert float(paired[0]["diff_low"]) < 0 < float(paired[0]["diff_high"])
    cats = read_csv(tmp_path / "out" / "scores_by_category.csv")
    assert list(cats[0]) == list(CATEGORY_COLUMNS)
    assert {(r["language"], r["category"], r["n"]) for r in cats} == {
        ("en", "STEM", "4"), ("en", "other", "4"), ("de", "STEM", "4"), ("de", "other", "4")}
    # the German prompts were built from the translation: its instruction line and its shots
    asked = models.OracleModel.asked
    assert any(s.startswith("[de] astronomy test question 0?\nA) [de] a0") for s in asked)


def test_a_protocol_added_as_one_entry_runs_end_to_end(tmp_path, tiny_source, monkeypatch):
    monkeypatch.setitem(protocols.PROTOCOLS, "gpt4-0", replace(protocols.PROTOCOLS["gpt4"], name="gpt4-0", shots=0))
    write_translation(tmp_path / "out", tiny_source, "de")
    rows = run(tmp_path, tiny_source, f"oracle:{answers_file(tmp_path, tiny_source, ('en', 'de'))}", languages="en,de",
               protocol="gpt4-0")
    assert [(r["language"], r["correct"]) for r in rows] == [("en", 8), ("de", 8)]
    assert rows[1]["signature"].startswith("protocol:gpt4-0|shots:0|")
    assert set(models.OracleModel.prefixes) >= {"[de] gopher line about astronomy\n\n"}


def test_the_drop_is_split_between_questions_the_checks_passed_and_flagged(tmp_path, tiny_source):
    # questions 1 and 2 of each subject come back with four identical options (a defect the translate stage's
    # checks flag); the model answers all of English and only the sound German questions right
    folder = write_translation(tmp_path / "out", tiny_source, "de")
    test = [Question.from_json(r) for r in read_jsonl(folder / "test.jsonl")]
    bad = {q.id for q in test if q.index in (1, 2)}
    # German texts that do not hold the English ones, so the oracle tells the two apart
    test = [Question(q.subject, q.split, q.index, f"[de] Frage {q.subject} {q.index}?",
                     ("[de] gleich",) * 4 if q.id in bad else q.choices, q.answer, "de") for q in test]
    write_jsonl(folder / "test.jsonl", [q.to_json() for q in test])
    wrong = {"A": "B", "B": "C", "C": "D", "D": "A"}
    table = {e.question: e.answer for e in mmlu.load(str(tiny_source), SUBJECTS, ["test"]).questions}
    table.update({q.question: wrong[q.answer] if q.id in bad else q.answer for q in test})
    spec = tmp_path / "answers.json"
    spec.write_text(json.dumps(table), encoding="utf-8")
    run(tmp_path, tiny_source, f"oracle:{spec}", languages="en,de")
    rows = {r["questions"]: r for r in read_csv(tmp_path / "out" / "paired_by_checks.csv")}
    assert list(next(iter(rows.values()))) == list(CHECK_COLUMNS) and set(rows) == {"clean", "flagged"}
    clean, flagged = rows["clean"], rows["flagged"]
    assert (clean["language"], clean["n_paired"], float(clean["diff"])) == ("de", "4", 0.0)
    assert (flagged["n_paired"], float(flagged["accuracy_lang"]), float(flagged["accuracy_en"])) == ("4", 0.0, 1.0)
    assert float(flagged["diff"]) == -1.0 and float(flagged["diff_high"]) < 0
    paired = read_csv(tmp_path / "out" / "paired.csv")[0]  # the whole language: the two halves together
    assert paired["n_paired"] == "8" and float(paired["diff"]) == -0.5
    from mmlu_ml.report.stage import run_report
    run_report(tmp_path / "out", screenshot=False)
    md = (tmp_path / "out" / "report" / "leaderboard.md").read_text(encoding="utf-8")
    drop = "{:+.1f} ({:+.1f}, {:+.1f})".format(*(100 * float(flagged[k]) for k in ("diff", "diff_low", "diff_high")))
    assert "| `oracle` | `de` | 4 | +0.0 (" in md and f"| 4 | {drop} |" in md
    assert 'id="by-checks"' in (tmp_path / "out" / "report" / "leaderboard.html").read_text(encoding="utf-8")
    report = json.loads((tmp_path / "out" / "report" / "report.manifest.json").read_text(encoding="utf-8"))
    assert "paired_by_checks.csv" in report["inputs"]  # the report names every file it was drawn from
    # a sound translation afterwards: its flagged half is written empty, not left over from the defective one
    write_translation(tmp_path / "out", tiny_source, "de")
    run(tmp_path, tiny_source, f"oracle:{answers_file(tmp_path, tiny_source, ('en', 'de'))}", languages="en,de",
        out=str(tmp_path / "out"))
    rows = {r["questions"]: r for r in read_csv(tmp_path / "out" / "paired_by_checks.csv")}
    assert rows["clean"]["n_paired"] == "8" and rows["flagged"]["n_paired"] == "0" and rows["flagged"]["diff"] == ""


def test_constant_model_scores_exactly_the_share_of_its_letter(tmp_path, mmlu_dir):
    subjects = "abstract_algebra,marketing,virology"
    rows = run(tmp_path, mmlu_dir, "constant:C", subjects=subjects, limit=20)
    questions = [q for q in mmlu.load(str(mmlu_dir), subjects.split(","), ["test"]).questions if q.index < 20]
    share = sum(q.answer == "C" for q in questions) / len(questions)
    assert rows[0]["n"] == 60 and rows[0]["accuracy"] == pytest.approx(share) and 0 < share < 1
    preds = list(read_jsonl(predictions_file(tmp_path / "out", "constant", "gpt4", "en")))
    assert len(preds) == 60 and {p["predicted"] for p in preds} == {"C"}
    assert all(p["correct"] == (p["gold"] == "C") for p in preds)


def test_scripted_cot0_counts_unparsed_apart_and_takes_the_last_answer(tmp_path, tiny_source):
    script = {
        0: "Antwort: A\n\nBei genauerem Nachdenken:\n\nAntwort: {gold}",  # the last match wins
        1: "Ich bin mir nicht sicher.",  # no answer at all: unparsed
        2: "**Antwort:** ({gold})",
        3: "Antwort: {wrong}",
    }
    write_translation(tmp_path / "out", tiny_source, "de")

    def value(q):
        wrong = "B" if q.answer != "B" else "C"
        return script[q.index].format(gold=q.answer, wrong=wrong)

    spec = answers_file(tmp_path, tiny_source, ("de",), value)
    rows = run(tmp_path, tiny_source, f"scripted:{spec}", languages="de", protocol="cot0")
    assert (rows[0]["n"], rows[0]["correct"], rows[0]["unparsed"], rows[0]["errors"]) == (8, 4, 2, 0)
    preds = list(read_jsonl(predictions_file(tmp_path / "out", "scripted", "cot0", "de")))
    unparsed = [p for p in preds if p["unparsed"]]
    assert len(unparsed) == 2 and all(p["predicted"] is None and not p["correct"] for p in unparsed)
    assert all("raw" in p for p in preds)
    # the prompt asked in German, with the translated chain-of-thought line and the native answer word
    assert any("[de] think about virology" in p and p.rstrip().endswith("Antwort: X  (X = A / B / C / D)")
               for p in models.ScriptedModel.asked)


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, tiny_source):
    spec = answers_file(tmp_path, tiny_source)
    whole = tmp_path / "whole"
    run(whole, tiny_source, f"oracle:{spec}")
    models.OracleModel.reset()
    split = tmp_path / "split"
    models.InterruptingOracle.stop_after = 1  # one subject's call goes through, the second is killed
    with pytest.raises(models.Interrupted):
        run(split, tiny_source, f"interrupting:{spec}")
    path = predictions_file(split / "out", "oracle", "gpt4", "en")
    assert [r["id"] for r in read_jsonl(path)] == [f"astronomy/test/{i}" for i in range(4)]
    run(split, tiny_source, f"oracle:{spec}")
    # the resumed run asked only for the questions that had no prediction
    assert [s.split("?")[0] for s in models.OracleModel.asked] == [f"virology test question {i}" for i in range(4)]
    a = list(read_jsonl(predictions_file(whole / "out", "oracle", "gpt4", "en")))
    b = list(read_jsonl(path))
    assert a == b and len({r["id"] for r in b}) == 8
    assert read_csv(whole / "out" / "scores.csv") == read_csv(split / "out" / "scores.csv")


def test_rerun_scores_nothing_twice_and_cache_answers_a_fresh_out(tmp_path, tiny_source):
    run(tmp_path, tiny_source, "hash:x")
    first = list(read_jsonl(predictions_file(tmp_path / "out", "hash", "gpt4", "en")))
    assert len(models.HashModel.asked) == 8
    run(tmp_path, tiny_source, "hash:x")  # same out: everything already scored
    assert len(models.HashModel.asked) == 8
    run(tmp_path, tiny_source, "hash:x", out=str(tmp_path / "other"))  # new out, same cache: no model call
    assert len(models.HashModel.asked) == 8
    assert list(read_jsonl(predictions_file(tmp_path / "other", "hash", "gpt4", "en"))) == first
    assert len({r["predicted"] for r in first}) > 1


def test_response_cache_never_serves_one_model_to_another(tmp_path, tiny_source):
    # two models with the same name and prompts, different fingerprints, one cache and one results folder
    a = run(tmp_path, tiny_source, "constant:A")
    b = run(tmp_path, tiny_source, "constant:B")
    assert a[0]["correct"] == 2 and b[0]["correct"] == 2 and len(models.ConstantModel.asked) == 16
    preds = list(read_jsonl(predictions_file(tmp_path / "out", "constant", "gpt4", "en")))
    assert {p["predicted"] for p in preds} == {"B"} and len(preds) == 8  # the earlier config's rows were dropped
    table = read_csv(tmp_path / "out" / "scores.csv")
    assert len(table) == 1 and table[0]["model_fingerprint"] != ""


def test_errors_are_counted_apart_and_retried(tmp_path, tiny_source):
    flaky = answers_file(tmp_path, tiny_source, value=lambda q: "ERROR" if q.index == 1 else q.answer, name="f.json")
    rows = run(tmp_path, tiny_source, f"flaky:{flaky}")
    assert (rows[0]["n"], rows[0]["correct"], rows[0]["errors"]) == (6, 6, 2)
    preds = list(read_jsonl(predictions_file(tmp_path / "out", "flaky", "gpt4", "en")))
    errors = [p for p in preds if p["error"]]
    assert len(errors) == 2 and all(p["predicted"] is None and "503" in p["error"] for p in errors)
    fixed = answers_file(tmp_path, tiny_source, name="g.json")
    models.FlakyModel.reset()
    # a new fingerprint (a fixed server) is a new configuration: everything is scored again under it
    rows = run(tmp_path, tiny_source, f"flaky:{fixed}")
    assert (rows[0]["n"], rows[0]["errors"]) == (8, 0)


def test_failed_items_are_retried_under_the_same_configuration(tmp_path, tiny_source, monkeypatch):
    spec = answers_file(tmp_path, tiny_source, value=lambda q: "ERROR" if q.index == 2 else q.answer)
    run(tmp_path, tiny_source, f"flaky:{spec}")
    table = json.loads(spec.read_text())
    fixed = {k: (v if v != "ERROR" else "A") for k, v in table.items()}
    models.FlakyModel.reset()
    # same fingerprint (the table file's hash is computed once per construction): patch lookup, not the file
    monkeypatch.setattr(models.FlakyModel, "lookup", lambda self, text: fixed[max(
        ((text.rfind(q), q) for q in fixed if q in text))[1]])
    rows = run(tmp_path, tiny_source, f"flaky:{spec}")
    assert len(models.FlakyModel.asked) == 2 and rows[0]["errors"] == 0 and rows[0]["n"] == 8
    preds = list(read_jsonl(predictions_file(tmp_path / "out", "flaky", "gpt4", "en")))
    assert len(preds) == 10  # 8 first rows + 2 retries; the latest row of an id counts


def test_manifest_records_the_configuration(tmp_path, tiny_source):
    write_translation(tmp_path / "out", tiny_source, "sw")
    spec = answers_file(tmp_path, tiny_source, ("sw", "en"))
    run(tmp_path, tiny_source, f"oracle:{spec}", languages="sw", shots=2, limit=3)
    manifest = json.loads((tmp_path / "out" / "evaluation.manifest.json").read_text())
    entry = manifest["oracle/gpt4"]
    assert entry["shots"] == 2 and entry["protocol"]["shots"] == 2 and entry["limit"] == 3
    assert entry["model"]["fingerprint"]["backend"] == "OracleModel" and len(entry["source_hash"]) == 64
    assert entry["languages"]["sw"]["translator_fingerprint"]["model"] == "mt-1"
    assert entry["languages"]["sw"]["n"] == 6 and entry["subjects"] == SUBJECTS
    # shots=2: exactly two solved (translated) examples precede each question
    assert models.OracleModel.prefixes and all(p.count("\nAnswer: ") == 2 and p.startswith("[sw] gopher line")
                                               for p in models.OracleModel.prefixes)
    run(tmp_path, tiny_source, f"oracle:{spec}", languages="en", shots=2, limit=1)  # a later run, one language
    entry = json.loads((tmp_path / "out" / "evaluation.manifest.json").read_text())["oracle/gpt4"]
    assert entry["languages"]["sw"]["limit"] == 3 and entry["languages"]["en"]["limit"] == 1 and entry["limit"] == 1


def test_manifest_adds_up_the_effort_of_a_language_scored_in_pieces(tmp_path, tiny_source):
    """A language resumed across runs keeps the seconds and answers of every run of its configuration."""
    spec = answers_file(tmp_path, tiny_source)
    effort = lambda: json.loads((tmp_path / "out" / "evaluation.manifest.json").read_text())[  # noqa: E731
        "oracle/gpt4"]["languages"]["en"]["effort"]
    run(tmp_path, tiny_source, f"oracle:{spec}", limit=1)
    first = effort()
    assert first["answered"] == 2 and first["runs"] == 1 and first["duration_s"] > 0
    run(tmp_path, tiny_source, f"oracle:{spec}", limit=3)  # the first question of each subject is taken back
    second = effort()
    assert second["answered"] == 6 and second["runs"] == 2 and second["duration_s"] > first["duration_s"]
    written = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    run(tmp_path, tiny_source, f"oracle:{spec}", limit=3)  # nothing left: a run that answers nothing changes no file
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()} == written
    assert effort() == second
    run(tmp_path, tiny_source, f"oracle:{spec}", limit=3, shots=2)  # another configuration starts again
    assert effort()["answered"] == 6 and effort()["runs"] == 1


def test_a_run_that_scores_nothing_leaves_the_recorded_effort_as_it_was():
    idle = {"duration_s": 0.01, "answered": 0}
    # scored before the manifest recorded effort: a rerun that finds every prediction does not invent one
    assert add_effort({"config_key": "k"}, "k", idle) is None
    done = {"duration_s": 5.0, "answered": 3, "runs": 1}
    assert add_effort({"config_key": "k", "effort": done}, "k", idle) == done
    # another configuration starts again from this run, idle or not
    assert add_effort({"config_key": "old", "effort": done}, "k", idle) == {"duration_s": 0.01, "answered": 0,
                                                                            "runs": 1}
    assert add_effort(None, "k", {"duration_s": 2.0, "answered": 2}) == {"duration_s": 2.0, "answered": 2, "runs": 1}


def test_scores_csv_keeps_rows_of_other_models(tmp_path, tiny_source):
    spec = answers_file(tmp_path, tiny_source)
    run(tmp_path, tiny_source, "constant:D")
    run(tmp_path, tiny_source, f"oracle:{spec}")
    run(tmp_path, tiny_source, "constant:A")
    table = read_csv(tmp_path / "out" / "scores.csv")
    assert [(r["model"], r["correct"]) for r in table] == [("constant", "2"), ("oracle", "8")]


def test_missing_translation_exits_2_with_the_command_that_makes_it(tmp_path, tiny_source):
    proc = cli("evaluate", "--source", tiny_source, "--languages", "en,de", "--subjects", "astronomy",
               "--limit", "2", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert_one_line_error(proc, "no translation of de", "mmlu-ml translate --translator local --languages de "
                          "--splits dev,test --subjects astronomy --limit 3")
    assert not (tmp_path / "out" / "scores.csv").exists()


def test_incomplete_or_rekeyed_translation_is_refused(tmp_path, tiny_source):
    write_translation(tmp_path / "out", tiny_source, "de", keep=lambda q: q.index < 2)
    with pytest.raises(MmluMlError, match=r"lacks 4 of 8 questions .*mmlu-ml translate --translator fake"):
        run(tmp_path, tiny_source, "constant:A", languages="de")
    folder = write_translation(tmp_path / "out", tiny_source, "de")
    rows = list(read_jsonl(folder / "test.jsonl"))
    rows[3]["answer"] = "A" if rows[3]["answer"] != "A" else "B"
    write_jsonl(folder / "test.jsonl", rows)
    with pytest.raises(MmluMlError, match="1 answer keys differ from the source"):
        run(tmp_path, tiny_source, "constant:A", languages="de")
    assert models.ConstantModel.asked == []


def test_several_translators_need_a_choice(tmp_path, tiny_source):
    write_translation(tmp_path / "out", tiny_source, "zh", translator="azure")
    write_translation(tmp_path / "out", tiny_source, "zh", translator="local")
    with pytest.raises(MmluMlError, match="zh has translations by azure, local; pick one with --eval-translator"):
        run(tmp_path, tiny_source, "constant:A", languages="zh")
    rows = run(tmp_path, tiny_source, "constant:A", languages="zh", eval_translator="azure")
    assert rows[0]["translator"] == "azure(mt-1,p2)"


def test_missing_instruction_line_is_refused(tmp_path, tiny_source):
    write_translation(tmp_path / "out", tiny_source, "ar", instructions=False)
    with pytest.raises(MmluMlError, match="instructions.json is missing"):
        run(tmp_path, tiny_source, "constant:A", languages="ar")
    # mmlu5 keeps its English instruction, so it needs no instructions.json
    rows = run(tmp_path, tiny_source, "constant:A", languages="ar", protocol="mmlu5", shots=1)
    assert rows[0]["n"] == 8


def test_unknown_model_backend_is_one_line(tmp_path, tiny_source):
    with pytest.raises(MmluMlError, match="unknown model backend 'nope'; valid: llamacpp, openai, hf"):
        run(tmp_path, tiny_source, "nope:x")
    with pytest.raises(MmluMlError, match="needs <backend>:<model>"):
        run(tmp_path, tiny_source, "llamacpp")


def test_translator_label_reads_the_fingerprints_of_the_translators():
    from mmlu_ml.evaluate.tables import translator_label as _translator_label

    local = {"backend": "local", "model": "qwen2.5-1.5b", "prompt": "p5"}
    assert _translator_label("local", local) == "local(qwen2.5-1.5b,p5)"
    assert _translator_label("openai", {"model": "gpt-4o", "prompt_version": 3}) == "openai(gpt-4o,p3)"
    azure = {"engine": "azure-translator", "api_version": "3.0"}
    assert _translator_label("azure", azure) == "azure(azure-translator,3.0)"
    assert _translator_label("source", None) == "source" and _translator_label("fake", {}) == "fake"


def test_a_changed_instruction_line_rescores_its_subject_and_only_it(tmp_path, mmlu_dir):
    """Rows keep the digest of their prompt's shared start (instruction line and shots): after the translate stage
    replaces one subject's line, a rerun asks that subject again and takes the other back."""
    out = tmp_path / "out"
    folder = write_translation(out, mmlu_dir, "de")
    run(tmp_path, mmlu_dir, "hash:x", languages="de", out=str(out), limit=2, eval_translator="fake")
    path = predictions_file(out, "hash", "gpt4", "de")
    first = {r["id"]: r for r in read_jsonl(path)}
    assert len(first) == 4 and all(len(r["prefix"]) == 12 for r in first.values())
    models.HashModel.reset()
    run(tmp_path, mmlu_dir, "hash:x", languages="de", out=str(out), limit=2, eval_translator="fake")
    assert models.HashModel.asked == []  # nothing changed: nothing asked
    lines = json.loads((folder / "instructions.json").read_text())
    lines["gopher"]["virology"] = "[de] a better gopher line about virology"
    write_json(folder / "instructions.json", lines)
    run(tmp_path, mmlu_dir, "hash:x", languages="de", out=str(out), limit=2, eval_translator="fake")
    assert len(models.HashModel.asked) == 2 and all("[de]" in s for s in models.HashModel.asked)
    last = {}
    for r in read_jsonl(path):
        last[r["id"]] = r  # the last row of an id is the one that counts
    changed = {i for i in last if last[i]["prefix"] != first[i]["prefix"]}
    assert changed == {"virology/test/0", "virology/test/1"}
    assert last["astronomy/test/0"] == first["astronomy/test/0"]
