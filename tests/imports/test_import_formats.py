"""The import stage on files each test writes in the layout its source serves: MMMLU's per-locale CSVs, Global-
MMLU's parquet folders, Okapi's JSON, our own JSONL; through `datasets` (hf:) on a folder laid out as the hub
lays it out; and the misaligned, partial, duplicated and answer-shifted variants that must be refused or reported."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_one_line_error, cli
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.records import read_jsonl
from mmlu_ml.imports.stage import run_import
from support.translated_sets import english, global_folder, mmmlu_folder, okapi_json

LETTERS = "ABCD"
TINY = "astronomy,virology"  # the subjects of conftest's tiny source


def read(out: Path, name: str, lang: str, split: str):
    folder = out / "translations" / name / lang
    return list(read_jsonl(folder / f"{split}.jsonl")), json.loads((folder / f"{split}.manifest.json").read_text())


def test_mmmlu_lines_up_by_position_and_checks_each_row(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "mmmlu", tiny_source)
    run_import("mmmlu", str(src), "fr", out=tmp_path / "out", mmlu_source=str(tiny_source), subjects=TINY)
    rows, manifest = read(tmp_path / "out", "mmmlu", "fr", "test")
    qs = english(tiny_source)
    assert [r["id"] for r in rows] == [q.id for q in qs]
    assert all(r["question"] == f"[fr] {q.question}" and r["answer"] == q.answer and r["language"] == "fr"
               for r, q in zip(rows, qs))
    counts = manifest["imported"]["alignment"]["counts"]
    assert (counts["matched"], counts["missing"], counts["extra"], manifest["coverage"]) == (8, 0, 0, 1.0)
    assert manifest["translator"]["backend"] == "import" and len(manifest["translator"]["sha256"]) == 64
    assert manifest["imported"]["licence"].startswith("MIT") and "checks" in manifest


def test_mmmlu_shifted_by_one_row_is_refused_and_nothing_written(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "mmmlu", tiny_source, shift=1)
    with pytest.raises(MmluMlError, match="disagree with the English answer letters by position"):
        run_import("mmmlu", str(src), "fr", out=tmp_path / "out", mmlu_source=str(tiny_source), subjects=TINY)
    assert not (tmp_path / "out" / "translations" / "mmmlu" / "fr").exists()


def test_mmmlu_partial_imports_with_its_coverage(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "mmmlu", tiny_source, rows=[0, 1, 2, 4, 5, 6])
    run_import("mmmlu", str(src), "FR_FR", out=tmp_path / "out", mmlu_source=str(tiny_source), subjects=TINY)
    rows, manifest = read(tmp_path / "out", "mmmlu", "fr", "test")
    assert [r["id"] for r in rows] == ["astronomy/test/0", "astronomy/test/1", "astronomy/test/2",
                                       "virology/test/0", "virology/test/1", "virology/test/2"]
    assert manifest["imported"]["alignment"]["counts"]["missing"] == 2 and manifest["coverage"] == 0.75


def test_hf_source_goes_through_datasets_on_a_folder_in_the_hub_layout(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "MMMLU", tiny_source, locale="DE-DE")
    (src / "README.md").write_text("---\nconfigs:\n- config_name: DE_DE\n  data_files:\n  - split: test\n"
                                   "    path: test/mmlu_DE-DE.csv\n---\n# MMMLU (test copy)\n")
    run_import("mmmlu", f"hf:{src}", "de", out=tmp_path / "out", mmlu_source=str(tiny_source), subjects=TINY)
    rows, manifest = read(tmp_path / "out", "mmmlu", "de", "test")
    assert len(rows) == 8 and manifest["translator"]["dataset"] == str(src)
    assert manifest["imported"]["revision"] == "local"


@pytest.mark.parametrize("hub", [False, True])
def test_global_mmlu_keeps_its_metadata(tmp_path, tiny_source, hub):
    src = global_folder(tmp_path / "gm", tiny_source, drop={"virology/test/3"}, hub_readme=hub)
    run_import("global-mmlu", f"hf:{src}" if hub else str(src), "fr", out=tmp_path / "out",
               mmlu_source=str(tiny_source), subjects=TINY)
    rows, manifest = read(tmp_path / "out", "global-mmlu", "fr", "test")
    assert len(rows) == 7 and manifest["imported"]["alignment"]["counts"]["missing"] == 1
    assert rows[1]["tags"]["cultural_sensitivity_label"] == "CS" and rows[0]["tags"]["time_sensitive"] == "No"
    assert "cultural_sensitivity_label" in manifest["imported"]["tags"]
    dev, _ = read(tmp_path / "out", "global-mmlu", "fr", "dev")
    assert len(dev) == 10  # 5 dev questions of each of the two subjects


def test_duplicate_ids_are_refused_in_one_line(tmp_path, tiny_source):
    src = global_folder(tmp_path / "gm", tiny_source, duplicate=True)
    proc = cli("import", "global-mmlu", src, "--languages", "fr", "--source", tiny_source, "--subjects", TINY, "--out", tmp_path / "out")
    assert_one_line_error(proc, "repeat an id", "astronomy/")
    assert not (tmp_path / "out" / "translations").exists() or not any((tmp_path / "out" / "translations").rglob("*.jsonl"))


def test_okapi_project_json_lines_up_by_id(tmp_path, tiny_source):
    src = okapi_json(tmp_path / "okapi", tiny_source)
    run_import("okapi", str(src), "fr", "val", out=tmp_path / "out", mmlu_source=str(tiny_source), subjects=TINY)
    rows, manifest = read(tmp_path / "out", "okapi", "fr", "val")
    assert [r["id"] for r in rows] == [q.id for q in english(tiny_source, "val")]
    assert manifest["imported"]["licence"].startswith("CC BY-NC")


@pytest.mark.parametrize("variant, needle", [
    ("answer_E", "is not one of A, B, C, D"),
    ("wrong_columns", "not in the okapi layout"),
    ("empty", "holds no rows"),
    ("unknown_language", "unknown language 'xx'"),
    ("absent_language", "has no okapi translation of de"),
    ("bad_split", "unknown split 'train'; valid: dev, val, test"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, tiny_source, variant, needle):
    src = tmp_path / "okapi"
    langs, splits = "fr", "val"
    if variant == "answer_E":
        okapi_json(src, tiny_source, answer="E")
    elif variant == "wrong_columns":
        okapi_json(src, tiny_source, fields="other")
    elif variant == "empty":
        src.mkdir()
        (src / "fr_val.json").write_text("[]")
    else:
        okapi_json(src, tiny_source)
        langs = {"unknown_language": "xx", "absent_language": "de"}.get(variant, "fr")
        splits = "val,train" if variant == "bad_split" else "val"
    proc = cli("import", "okapi", src, "--languages", langs, "--splits", splits, "--source", tiny_source, "--subjects", TINY,
               "--out", tmp_path / "out")
    assert_one_line_error(proc, needle)
    assert not list((tmp_path / "out").rglob("*.jsonl"))


def test_own_layout_refuses_a_folder_with_mixed_languages(tmp_path, tiny_source):
    folder = tmp_path / "mine" / "fr"
    folder.mkdir(parents=True)
    rows = [{**q.to_json(), "language": "fr" if i else "de"} for i, q in enumerate(english(tiny_source))]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = cli("import", "jsonl", tmp_path / "mine", "--source", tiny_source, "--subjects", TINY, "--out", tmp_path / "out")
    assert_one_line_error(proc, "not 'fr'", "one language per folder")
    (folder / "test.jsonl").write_text("".join(json.dumps({**r, "language": "fr"}) + "\n" for r in rows))
    proc = cli("import", "jsonl", tmp_path / "mine", "--as", "othertool", "--source", tiny_source, "--subjects", TINY,
               "--out", tmp_path / "out", check=True)
    assert "othertool" in proc.stdout and len(read(tmp_path / "out", "othertool", "fr", "test")[0]) == 8


def test_a_file_in_another_layout_names_the_columns_it_lacks(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "mmmlu", tiny_source)
    path = src / "test" / "mmlu_FR-FR.csv"
    pd.read_csv(path).drop(columns=["Subject"]).to_csv(path, index=False)
    proc = cli("import", "mmmlu", src, "--source", tiny_source, "--subjects", TINY, "--out", tmp_path / "out")
    assert_one_line_error(proc, "lacks column(s) Subject", "not in the mmmlu layout")


def test_a_split_the_set_does_not_translate_is_refused(tmp_path, tiny_source):
    src = mmmlu_folder(tmp_path / "mmmlu", tiny_source)
    proc = cli("import", "mmmlu", src, "--splits", "dev", "--source", tiny_source, "--subjects", TINY,
               "--out", tmp_path / "out")
    assert_one_line_error(proc, "mmmlu translates test, not dev")
