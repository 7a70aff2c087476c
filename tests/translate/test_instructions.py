"""Instruction lines: checked like questions, and for naming their subject; a failing line is put together again
from the frame and the subject's name."""

from __future__ import annotations

import pytest

from mmlu_ml.core.languages import load
from mmlu_ml.translate import checks, instructions

L = load().languages
HEAD = "Ein sehr kundiges und intelligentes KI-Modell beantwortet Multiple-Choice-Fragen über "
# The subject's name translated alone, and the whole line as the published German board had it (issue 37).
WRONG = {
    "high_school_geography": ("Hauptschulgeographie", "Hauptschule-Geschichte"),
    "high_school_mathematics": ("Hauptschulmathematik", "die Hauptschule"),
    "medical_genetics": ("Medizinische Genetik", "Medikamentenschutz"),
    "public_relations": ("Öffentlichkeitsarbeit", "die Publizieren"),
    "us_foreign_policy": ("US-Außenpolitik", "unsere Außenpolitik"),
}
SOUND = {
    "astronomy": ("Astronomie", "Astronomie"),
    "high_school_geography": ("Hauptschulgeographie", "Hauptschule Geographie"),
    "international_law": ("Internationales Recht", "die internationale Recht"),
    "us_foreign_policy": ("US-Außenpolitik", "die Außenpolitik der US"),
    "virology": ("Virologie", "Virologie"),
    "college_medicine": ("Medizin an der Hochschule", "Hochschulmedizin"),
}


def _lines(table: dict) -> tuple[dict, dict, dict]:
    lines, translated = instructions.english(list(table))[0], {}
    names = {s: name for s, (name, _) in table.items()}
    translated = {"gopher": {s: HEAD + tail + "." for s, (_, tail) in table.items()},
                  "cot": {s: f"Beantworten Sie die folgende Multiple-Choice-Frage über {tail}. Denken Sie Schritt "
                             "für Schritt nach, bevor Sie antworten." for s, (_, tail) in table.items()}}
    return lines, translated, names


def test_the_published_german_lines_that_name_another_subject_or_none_are_caught():
    lines, translated, names = _lines(WRONG)
    keyed = {f"gopher/{s}": (lines["gopher"][s], translated["gopher"][s], s) for s in WRONG}
    flags = checks.check_lines(keyed, names, L["de"])
    assert sorted(flags) == sorted(keyed)
    assert all("subject_named" in found for found in flags.values())


def test_sound_lines_pass():
    lines, translated, names = _lines(SOUND)
    keyed = {f"{kind}/{s}": (lines[kind][s], translated[kind][s], s) for kind in lines for s in SOUND}
    assert checks.check_lines(keyed, names, L["de"]) == {}


@pytest.mark.parametrize("line,check", [
    ("Ein sehr kundiges Modell beantwortet Fragen über Astronomie, weil es unterschrieben wurde, weil es "
     "unterschrieben wurde, weil es unterschrieben wurde, weil es unterschrieben wurde.", "loops"),
    ("A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice questions "
     "about astronomy", "echoed_english"),
])
def test_a_line_that_loops_or_stays_english_is_flagged(line, check):
    english = instructions.english(["astronomy"])[0]["gopher"]["astronomy"]
    flags = checks.check_lines({"gopher/astronomy": (english, line, "astronomy")}, {"astronomy": "Astronomie"}, L["de"])
    assert check in flags["gopher/astronomy"]


@pytest.mark.parametrize("line,name,code,named", [
    ("一个知识渊博的人工智能模型回答关于高中地理的选择题", "高中地理", "zh", True),
    ("一个知识渊博的人工智能模型回答关于高中历史的选择题", "高中地理", "zh", False),
    ("Очень знающая модель отвечает на вопросы по астрономии", "Астрономия", "ru", True),
    ("Modeli wenye ujuzi hujibu maswali kuhusu jiografia ya shule ya upili", "Jiografia ya shule ya upili", "sw", True),
    ("Modeli wenye ujuzi hujibu maswali kwa sababu ulitiwa saini", "Jiografia ya shule ya upili", "sw", False),
])
def test_naming_a_subject_across_scripts_and_inflections(line, name, code, named):
    assert checks.names_subject(line, name, L[code].script) is named


def test_a_flagged_line_is_put_together_from_the_frame_and_passes():
    lines, translated, names = _lines({**SOUND, **WRONG})
    frames = {"gopher": "Ein sehr kundiges und intelligentes KI-Modell beantwortet Multiple-Choice-Fragen zum "
                        "folgenden Fach",
              "cot": "Beantworten Sie die folgende Multiple-Choice-Frage zum folgenden Fach",
              "cot_tail": "Denken Sie Schritt für Schritt nach, bevor Sie antworten."}
    used, report = instructions.settle(lines, translated, names, frames, L["de"])
    assert used["gopher"]["us_foreign_policy"] == (
        "Ein sehr kundiges und intelligentes KI-Modell beantwortet Multiple-Choice-Fragen zum folgenden Fach: "
        "US-Außenpolitik")
    assert used["cot"]["medical_genetics"] == ("Beantworten Sie die folgende Multiple-Choice-Frage zum folgenden "
                                               "Fach: Medizinische Genetik. Denken Sie Schritt für Schritt nach, "
                                               "bevor Sie antworten.")
    assert used["gopher"]["astronomy"] == translated["gopher"]["astronomy"]  # a sound line is kept as it is
    assert set(used["recomposed"]) == {f"{k}/{s}" for k in ("gopher", "cot") for s in WRONG}
    assert report["lines"] == 2 * len(SOUND | WRONG) and report["flagged"] == report["recomposed"] == 2 * len(WRONG)
    assert report["still_flagged"] == 0 and report["by_check"]["subject_named"] == 2 * len(WRONG)


def test_a_line_still_failing_counts_in_the_flagged_share_and_fails_strict():
    checks_ = {"strings": 96, "flagged": {"share": 0.0417, "count": 4, "questions": 2}, "failed": []}
    report = {"lines": 4, "flagged": 2, "recomposed": 2, "still_flagged": 1}
    out = instructions.count_in(checks_, report)
    assert out["flagged"] == {"share": 0.05, "count": 5, "questions": 2, "instruction_lines": 1}
    assert out["failed"] == ["instruction_lines"] and out["instructions"] == report
