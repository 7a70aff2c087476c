"""Foundation: the three MMLU sources, ids, counts, and the bad inputs a source can hold."""

from __future__ import annotations

from dataclasses import replace

import tarfile

import pytest

from conftest import assert_one_line_error, cli, write_csv
from mmlu_ml.core import mmlu
from mmlu_ml.core.options import Selection
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.subjects import CATEGORIES, CATEGORY, SUBJECTS


def test_shared_mmlu_counts_exactly(mmlu_dir):
    ds = mmlu.load(str(mmlu_dir))
    counts = {s: len(ds.by_split(s)) for s in ("dev", "val", "test")}
    assert counts == {"dev": 285, "val": 1531, "test": 14042}
    assert {q.subject for q in ds.questions} == set(SUBJECTS) and len(SUBJECTS) == 57
    ids = [q.id for q in ds.questions]
    assert len(set(ids)) == len(ids)
    first = ds.by_split("test")[0]
    assert first.id == "abstract_algebra/test/0" and first.answer in "ABCD" and len(first.choices) == 4


def test_categories_cover_all_subjects():
    assert set(CATEGORY) == set(SUBJECTS)
    assert set(CATEGORY.values()) == set(CATEGORIES) == {"STEM", "humanities", "social sciences", "other"}
    assert CATEGORY["abstract_algebra"] == "STEM" and CATEGORY["professional_law"] == "humanities"
    assert CATEGORY["sociology"] == "social sciences" and CATEGORY["virology"] == "other"


def test_cli_data_on_shared(mmlu_dir):
    proc = cli("data", "--source", mmlu_dir, check=True)
    last = [line for line in proc.stdout.splitlines() if line.startswith("total")][0]
    assert "57 subjects" in last and "285" in last and "1,531" in last and "14,042" in last


def test_ids_index_is_csv_row(tiny_source):
    ds = mmlu.load(str(tiny_source), ["virology"], ["val"])
    assert [q.id for q in ds.questions] == [f"virology/val/{i}" for i in range(4)]
    assert ds.questions[2].question == "virology val question 2?" and ds.questions[2].answer == "C"


def test_tar_source_matches_folder(tiny_source, tmp_path):
    archive = tmp_path / "mmlu.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_source, arcname="data")  # a top-level folder inside the tar is allowed
    subjects = ["astronomy", "virology"]
    a = mmlu.load(str(tiny_source), subjects)
    b = mmlu.load(str(archive), subjects)
    assert a.questions == b.questions and a.source_hash == b.source_hash


def test_hf_source_in_cais_layout(tmp_path):
    """`hf:` goes through `datasets`; here on a local folder laid out like cais/mmlu (config `all`)."""
    pd = pytest.importorskip("pandas")
    repo = tmp_path / "fake_mmlu_hub"
    (repo / "all").mkdir(parents=True)
    for split, n in (("dev", 3), ("validation", 2), ("test", 4)):
        rows = []
        for subject in ("anatomy", "astronomy"):
            for i in range(n):
                rows.append({"question": f"{subject} {split} {i}", "subject": subject,
                             "choices": [f"w{i}", f"x{i}", f"y{i}", f"z{i}"], "answer": i % 4})
        pd.DataFrame(rows).to_parquet(repo / "all" / f"{split}-00000-of-00001.parquet")
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: all\n  data_files:\n"
        "  - split: dev\n    path: all/dev-*\n  - split: validation\n    path: all/validation-*\n"
        "  - split: test\n    path: all/test-*\n---\n", encoding="utf-8")
    ds = mmlu.load(f"hf:{repo}", ["anatomy", "astronomy"], ["dev", "val", "test"])
    assert len(ds.by_split("dev")) == 6 and len(ds.by_split("val")) == 4 and len(ds.by_split("test")) == 8
    q = [q for q in ds.questions if q.id == "astronomy/test/3"][0]
    assert q.question == "astronomy test 3" and q.answer == "D" and q.choices[0] == "w3"
    assert ds.source == f"hf:{repo}"


def test_limit_keeps_first_rows(mmlu_dir):
    """--limit is applied in one place, the Selection every stage takes."""
    selection = Selection.parse(str(mmlu_dir), "astronomy,virology", "test", limit=3)
    _, questions, dev = selection.load()
    assert [q.index for q in questions] == [0, 1, 2, 0, 1, 2] and dev == []
    _, questions, dev = selection.load(shots=5)  # the shots: every dev question, for the prompt to take its first
    assert len(questions) == 6 and [q.index for q in dev] == [0, 1, 2, 3, 4] * 2


def test_the_shots_rule_translates_the_shots_and_names_them_in_one_command():
    sel = Selection.parse(None, "astronomy", "test", limit=2)
    assert sel.translations_for(3) == [replace(sel, splits=("dev",), limit=3), sel]
    assert sel.with_shots(3) == replace(sel, splits=("dev", "test"), limit=3)
    scored_dev = Selection.parse(None, "astronomy", "test,dev", limit=2)
    assert scored_dev.translations_for(3) == [replace(scored_dev, limit=3)] and scored_dev.translations_for(0) == [scored_dev]


# ---- bad input: one line naming the problem and the fix, exit code 2 ----

def test_row_without_six_fields_names_file_and_line(tiny_source):
    bad = tiny_source / "test" / "astronomy_test.csv"
    write_csv(bad, [["q", "a", "b", "c", "d", "A"], ["q2", "a", "b", "c", "A"]])
    proc = cli("data", "--source", tiny_source, "--subjects", "astronomy")
    assert_one_line_error(proc, "astronomy_test.csv:2", "6 fields")


def test_answer_outside_a_to_d(tiny_source):
    write_csv(tiny_source / "dev" / "virology_dev.csv", [["q", "a", "b", "c", "d", "A"], ["q", "a", "b", "c", "d", "E"]])
    proc = cli("data", "--source", tiny_source, "--subjects", "virology")
    assert_one_line_error(proc, "virology_dev.csv:2", "'E'", "A, B, C, D")


def test_empty_subject_file(tiny_source):
    (tiny_source / "val" / "virology_val.csv").write_text("", encoding="utf-8")
    proc = cli("data", "--source", tiny_source, "--subjects", "virology")
    assert_one_line_error(proc, "virology_val.csv", "no questions")


def test_missing_folder(tmp_path):
    proc = cli("data", "--source", tmp_path / "nowhere")
    assert_one_line_error(proc, "does not exist", "--source")


def test_unknown_subject_and_split(tiny_source):
    assert_one_line_error(cli("data", "--source", tiny_source, "--subjects", "astrology"), "unknown subject", "'astrology'")
    assert_one_line_error(cli("data", "--source", tiny_source, "--splits", "train"), "unknown split", "dev, val, test")


def test_parse_list_errors_are_ours():
    with pytest.raises(MmluMlError, match="valid: dev, val, test"):
        mmlu.parse_list("dev,tset", ("dev", "val", "test"), "split")
    assert mmlu.parse_list("test,dev,test", ("dev", "val", "test"), "split") == ["test", "dev"]


# ---- hostile sources: a BOM, bytes that are not UTF-8, a giant field, a second copy in a tar ----

def test_a_bom_at_the_head_of_a_csv_is_not_part_of_the_first_question(tiny_source, tmp_path):
    path = tiny_source / "test" / "virology_test.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ds = mmlu.load(str(tiny_source), ["virology"], ["test"])
    assert ds.questions[0].question == "virology test question 0?"
    archive = tmp_path / "mmlu.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_source, arcname="data")
    assert mmlu.load(str(archive), ["virology"], ["test"]).questions == ds.questions


def test_a_csv_that_is_not_utf8_is_one_line(tiny_source, tmp_path):
    path = tiny_source / "test" / "virology_test.csv"
    path.write_bytes("Quelle est la réponse?,a,b,c,d,A\n".encode("latin-1"))
    proc = cli("data", "--source", tiny_source, "--subjects", "virology")
    assert_one_line_error(proc, "virology_test.csv", "not UTF-8", "save it as UTF-8")
    archive = tmp_path / "mmlu.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_source, arcname="data")
    assert_one_line_error(cli("data", "--source", archive, "--subjects", "virology"), "virology_test.csv", "not UTF-8")


def test_a_field_over_the_csv_limit_is_one_line(tiny_source):
    path = tiny_source / "test" / "virology_test.csv"
    path.write_text('q,a,b,c,d,A\n"an unclosed quote,a,b,c,d,A\n' + "x" * 140_000 + "\n", encoding="utf-8")
    proc = cli("data", "--source", tiny_source, "--subjects", "virology")
    assert_one_line_error(proc, "virology_test.csv:", "field larger than field limit", "unclosed quote")


def test_a_second_copy_of_a_csv_in_a_tar_is_refused(tiny_source, tmp_path):
    archive = tmp_path / "mmlu.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_source, arcname="data")
        tar.add(tiny_source / "test" / "astronomy_test.csv", arcname="old/test/virology_test.csv")
    proc = cli("data", "--source", archive, "--subjects", "virology")
    assert_one_line_error(proc, "old/test/virology_test.csv", "second copy", "data/test/virology_test.csv")
    assert mmlu.load(str(archive), ["astronomy"], ["test"]).questions  # a subject not asked for is not looked at
