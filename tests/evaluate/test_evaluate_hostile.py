"""Evaluate under hostile conditions, through the command: torn and foreign prediction lines, damaged manifests
(a translation's, evaluation.manifest.json), a run in which every question failed, an --out it cannot write."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import ROOT, assert_one_line_error
from mmlu_ml.core.paths import predictions_file
from mmlu_ml.core.records import read_jsonl
from test_evaluate_stage import SUBJECTS, answers_file, write_translation

# the command, in a fresh interpreter, with the test models of tests/support/models.py registered
_MAIN = ("import sys; from mmlu_ml.evaluate import models as m; "
         "m.MODELS.update(constant='support.models:ConstantModel', flaky='support.models:FlakyModel'); "
         "from mmlu_ml.cli import main; sys.argv[0] = 'mmlu-ml'; sys.exit(main())")


def evaluate(tmp_path, source, model="constant:A", languages="en", *more):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    args = ["evaluate", "--source", source, "--languages", languages, "--subjects", ",".join(SUBJECTS),
            "--splits", "test", "--model", model, "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache", *more]
    return subprocess.run([sys.executable, "-c", _MAIN, *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


def _without_bars(proc):
    """The process with its progress bars (stderr lines of `<model> <lang>: ...`) left out of stderr."""
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not re.match(r"\S+ \S+: +\d+%", line))
    return proc


def test_a_prediction_torn_inside_a_multibyte_character_resumes(tmp_path, tiny_source):
    first = evaluate(tmp_path, tiny_source)
    assert first.returncode == 0, first.stderr
    path = predictions_file(tmp_path / "out", "constant", "gpt4", "en")
    rows = path.read_bytes().splitlines(keepends=True)
    torn = json.dumps({**json.loads(rows[-1]), "note": "中文"}, ensure_ascii=False).encode("utf-8")
    path.write_bytes(b"".join(rows[:-1]) + torn[:torn.index("文".encode()) + 2])  # killed inside "文"
    again = evaluate(tmp_path, tiny_source)
    assert again.returncode == 0, again.stderr
    assert [r["id"] for r in read_jsonl(path)] == [json.loads(r)["id"] for r in rows]  # the torn one rescored


def test_a_prediction_line_that_is_not_an_object_is_one_line(tmp_path, tiny_source):
    assert evaluate(tmp_path, tiny_source).returncode == 0
    path = predictions_file(tmp_path / "out", "constant", "gpt4", "en")
    path.write_text("[1, 2]\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert_one_line_error(evaluate(tmp_path, tiny_source), f"{path}:1: not a JSON object")


def test_a_translation_line_that_is_not_an_object_is_one_line(tmp_path, tiny_source):
    folder = write_translation(tmp_path / "out", tiny_source, "de")
    (folder / "test.jsonl").write_text('"x"\n', encoding="utf-8")
    assert_one_line_error(evaluate(tmp_path, tiny_source, "constant:A", "de"), "test.jsonl:1: not a JSON object",
                          "make it again with: mmlu-ml translate")


def test_a_damaged_translation_manifest_is_refused_and_keeps_the_predictions(tmp_path, tiny_source):
    folder = write_translation(tmp_path / "out", tiny_source, "de")
    assert evaluate(tmp_path, tiny_source, "constant:A", "de").returncode == 0
    path = predictions_file(tmp_path / "out", "constant", "gpt4", "de")
    before = path.read_bytes()
    for damage in (b'{"translator": {"backend": ', "é".encode("latin-1"), b"[1]"):
        (folder / "test.manifest.json").write_bytes(damage)
        assert_one_line_error(evaluate(tmp_path, tiny_source, "constant:A", "de"), "test.manifest.json",
                              "mmlu-ml translate")
        assert path.read_bytes() == before


def test_a_damaged_evaluation_manifest_is_refused_not_reset(tmp_path, tiny_source):
    assert evaluate(tmp_path, tiny_source).returncode == 0
    manifest = tmp_path / "out" / "evaluation.manifest.json"
    for damage in (manifest.read_bytes()[:-20], b"\xff\xfe", b"[1, 2]"):
        manifest.write_bytes(damage)
        assert_one_line_error(evaluate(tmp_path, tiny_source, "constant:B"), str(manifest), "move it away")
        assert manifest.read_bytes() == damage


def test_every_question_failing_exits_1_after_writing(tmp_path, tiny_source):
    spec = answers_file(tmp_path, tiny_source, value=lambda q: "ERROR")
    proc = evaluate(tmp_path, tiny_source, f"flaky:{spec}")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = [line for line in _without_bars(proc).stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nothing scored in en" in lines[0] and "503" in lines[0], proc.stderr
    assert len(list(read_jsonl(predictions_file(tmp_path / "out", "flaky", "gpt4", "en")))) == 8
    assert (tmp_path / "out" / "scores.csv").is_file()


def test_an_out_that_cannot_be_written_is_one_line(tmp_path, tiny_source):
    # root writes wherever it likes, so the write is refused by what stands in the way: a file where a folder goes
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "predictions").write_text("not a folder", encoding="utf-8")
    assert_one_line_error(evaluate(tmp_path, tiny_source), "cannot write", str(tmp_path / "out" / "predictions"),
                          "a file stands where a folder is expected")
    (tmp_path / "out" / "predictions").unlink()
    (tmp_path / "out" / "scores.csv").mkdir()  # and a folder where a file goes (after scoring: bars above it)
    assert_one_line_error(_without_bars(evaluate(tmp_path, tiny_source)), "cannot write",
                          str(tmp_path / "out" / "scores.csv"), "a folder stands where the file goes")
