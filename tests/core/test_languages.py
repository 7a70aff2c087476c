"""Foundation: languages.yaml, selectors, and a malformed table."""

from __future__ import annotations

import pytest

from conftest import ROOT, assert_one_line_error, cli
from mmlu_ml.core import languages
from mmlu_ml.core.errors import MmluMlError

GPT4_26 = "it af es de fr id ru pl uk el lv zh ar tr ja sw cy ko is bn ur ne th pa mr te".split()


def test_table_has_gpt4_chart_and_more():
    table = languages.load(ROOT / "languages.yaml")
    assert len(table.languages) >= 30
    gpt4 = [lang.code for lang in table.select("gpt4")]
    assert gpt4 == ["en", *GPT4_26]
    assert {"pt-BR", "hi", "yo"} <= set(table.languages)
    assert table.languages["zh"].azure == "zh-Hans" and table.languages["sw"].gpt4 == 78.5
    assert table.languages["te"].gpt4 == 62.0 and table.languages["hi"].gpt4 is None
    assert [(b.name, b.accuracy) for b in table.baselines][:4] == [
        ("Random guessing", 25.0), ("Chinchilla (English)", 67.0), ("PaLM (English)", 69.3), ("GPT-3.5 (English)", 70.1)]
    assert all(lang.answer_word and lang.speakers > 0 and lang.speakers_source for lang in table.languages.values())


def test_selectors():
    table = languages.load(ROOT / "languages.yaml")
    assert [lang.code for lang in table.select("de,fr,de")] == ["de", "fr"]
    assert len(table.select("all")) == len(table.languages)
    assert {lang.code for lang in table.select("mmmlu")} >= {"pt-BR", "hi", "yo", "sw"}
    with pytest.raises(MmluMlError, match="unknown language 'xx'"):
        table.select("de,xx")


def test_cli_languages_lists_30():
    proc = cli("languages", check=True)
    assert "Kiswahili" in proc.stdout and "zh-Hans" in proc.stdout
    rows = [line for line in proc.stdout.splitlines()[1:-1] if line.strip()]
    assert len(rows) >= 30


def test_unknown_language_exits_2(tmp_path):
    proc = cli("languages", "--select", "en,klingon")
    assert_one_line_error(proc, "unknown language 'klingon'", "gpt4")


@pytest.mark.parametrize("text, needle", [
    ("languages: [oops", "not valid YAML"),
    ("- just a list", "`languages:` list"),
    ("languages:\n  - {code: en, name: English}\n", "missing field(s) native"),
    ("languages:\n  - {code: de, name: German, native: Deutsch, script: Latn, azure: de, speakers: 1,"
     " speakers_source: x, words: {answer: A, question: Q}, gpt4: null, sets: []}\n", "English (`en`) must be listed"),
])
def test_malformed_languages_yaml(tmp_path, text, needle):
    bad = tmp_path / "languages.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(MmluMlError, match="languages.yaml"):
        languages.parse(text, str(bad))
    proc = cli("languages", env={"MMLU_ML_LANGUAGES_FILE": str(bad)})
    assert_one_line_error(proc, needle, "fix languages.yaml")


_GERMAN = ("  - {code: de, name: German, native: Deutsch, script: Latn, azure: de, speakers: 1, speakers_source: x,"
           " words: {answer: A, question: Q}, gpt4: null, sets: []}\n")


@pytest.mark.parametrize("text, needle", [
    (_GERMAN.replace("speakers: 1,", 'speakers: "many",'), "must be numbers"),
    (_GERMAN.replace("sets: []", "sets: 5"), "`sets` must be a list"),
    (_GERMAN.replace("words: {answer: A, question: Q}", "words: {answer: A, question: Q, letters: 4}"),
     "`words.letters` needs exactly 4 letters"),
    (_GERMAN + "baselines:\n  - {name: GPT-4, accuracy: high}\n", "baselines[0]"),
])
def test_a_field_of_the_wrong_type_is_one_line(tmp_path, text, needle):
    bad = tmp_path / "languages.yaml"
    english = _GERMAN.replace("code: de", "code: en").replace("sets: 5", "sets: []").replace(
        'speakers: "many"', "speakers: 1")
    bad.write_text("languages:\n" + english + text, encoding="utf-8")
    proc = cli("languages", env={"MMLU_ML_LANGUAGES_FILE": str(bad)})
    assert_one_line_error(proc, str(bad), needle, "fix languages.yaml")


def test_a_languages_file_that_is_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "languages.yaml"
    bad.write_bytes(("languages:\n" + _GERMAN.replace("German", "Allemand é")).encode("latin-1"))
    proc = cli("languages", env={"MMLU_ML_LANGUAGES_FILE": str(bad)})
    assert_one_line_error(proc, str(bad), "not UTF-8", "save it as UTF-8")
