"""Instruction lines: checked like questions, and for naming their subject (read from a back-translation); a
failing line is translated again from its variant, which replaces it only if it passes."""

from __future__ import annotations

import pytest

from mmlu_ml.core.languages import load
from mmlu_ml.core import checks
from mmlu_ml.translate import instructions

L = load().languages
HEAD = "Ein sehr kundiges KI-Modell beantwortet Multiple-Choice-Fragen über "
# Lines of the published German board (issue 37) and what Qwen2.5-Coder 1.5B gave back in English for them.
WRONG = {
    "high_school_geography": ("Hauptschule-Geschichte", "A highly intelligent AI model answers multiple-choice questions about high school history."),
    "high_school_mathematics": ("die Hauptschule", "A highly intelligent AI model answers multiple-choice questions about the primary school."),
    "medical_genetics": ("Medikamentenschutz", "A highly intelligent AI model answers multiple-choice questions about medication safety."),
    "public_relations": ("die Publizieren", "A highly intelligent AI model answers multiple-choice questions about publishing."),
    "us_foreign_policy": ("unsere Außenpolitik", "A highly intelligent AI model answers multiple-choice questions about our foreign policy."),
}
SOUND = {
    "astronomy": ("Astronomie", "A highly intelligent AI model answers multiple-choice questions about astronomy."),
    "high_school_biology": ("Hauptschulebiologie", "A highly intelligent AI model answers multiple-choice questions about biology at the high school level."),
    "high_school_us_history": ("die US Geschichte", "A highly intelligent AI model answers multiple-choice questions about the US history of higher education."),
    "international_law": ("die internationale Recht", "A highly intelligent AI model answers multiple-choice questions about international law."),
    "professional_law": ("die rechtlichen Praktiken", "A highly intelligent AI model answers multiple-choice questions about legal practices."),
    "human_aging": ("die Alterswissenschaft", "A highly intelligent AI model answers multiple-choice questions about aging."),
    "miscellaneous": ("verschiedene Themen", "A highly intelligent AI model answers multiple-choice questions on various topics."),
}


def _keyed(table: dict) -> dict:
    lines = instructions.english(list(table))
    return {f"gopher/{s}": (lines["gopher"][s], HEAD + tail + ".", back, s) for s, (tail, back) in table.items()}


def test_the_published_german_lines_that_name_another_subject_or_none_are_caught():
    flags = checks.check_lines(_keyed(WRONG), L["de"])
    assert sorted(flags) == sorted(f"gopher/{s}" for s in WRONG)
    assert all(found == ["subject_named"] for found in flags.values())


def test_sound_lines_pass():
    assert checks.check_lines(_keyed(SOUND), L["de"]) == {}


@pytest.mark.parametrize("back,subject,named", [
    ("questions about American foreign policy", "us_foreign_policy", True),
    ("questions about U.S. foreign policy", "us_foreign_policy", True),
    ("questions about us and foreign policy", "us_foreign_policy", False),  # the pronoun, not the country
    ("questions on geographic facts of secondary schools", "high_school_geography", True),
    ("questions on geometry", "high_school_geography", False),
])
def test_a_subject_is_named_by_its_topic_words_stems_and_usual_forms(back, subject, named):
    assert checks.names_subject(back, subject) is named


@pytest.mark.parametrize("line,check", [
    ("Ein sehr kundiges Modell beantwortet Fragen über Astronomie, weil es unterschrieben wurde, weil es "
     "unterschrieben wurde, weil es unterschrieben wurde, weil es unterschrieben wurde.", "loops"),
    ("A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice questions "
     "An AI model answers multiple-choice questions about astronomy", "echoed_english"),
])
def test_a_line_that_loops_or_stays_english_is_flagged(line, check):
    english = instructions.english(["astronomy"])["gopher"]["astronomy"]
    flags = checks.check_lines({"gopher/astronomy": (english, line, "questions about astronomy", "astronomy")},
                               L["de"])
    assert check in flags["gopher/astronomy"]


class Scripted:
    """A translator behind `ask`: answers from a table, and records what it was asked."""

    def __init__(self, table: dict):
        self.table, self.asked = table, []

    def __call__(self, texts, source, target):
        self.asked += [(source.code, target.code, t) for t in texts]
        return {t: self.table[t] for t in texts if t in self.table}


def _board():
    subjects = ["astronomy", "medical_genetics", "us_foreign_policy", "nutrition"]
    lines = {"gopher": instructions.english(subjects)["gopher"]}
    translated = {"gopher": {"astronomy": HEAD + "Astronomie.", "medical_genetics": HEAD + "Medikamentenschutz.",
                             "us_foreign_policy": HEAD + "unsere Außenpolitik.", "nutrition": HEAD + "Nährstoffe."}}
    fixed = {"medical_genetics": HEAD + '"Medizinische Genetik".', "us_foreign_policy": HEAD + '„unsere Politik“.',
             "nutrition": HEAD + "die Nährstoffe."}
    named = HEAD + "„US Foreign Policy“."
    table = {translated["gopher"]["astronomy"]: "An AI model answers multiple-choice questions about astronomy",
             translated["gopher"]["medical_genetics"]: "An AI model answers multiple-choice questions about medication safety",
             translated["gopher"]["us_foreign_policy"]: "An AI model answers multiple-choice questions about our foreign policy",
             translated["gopher"]["nutrition"]: "An AI model answers multiple-choice questions about nutrients",
             **{instructions.variant("gopher", s): fixed[s] for s in fixed},
             fixed["medical_genetics"]: 'An AI model answers multiple-choice questions about "Medical Genetics"', fixed["us_foreign_policy"]: "An AI model answers multiple-choice questions about our politics",
             fixed["nutrition"]: "An AI model answers multiple-choice questions about the nutrients", named: 'An AI model answers multiple-choice questions about "US Foreign Policy"'}
    return lines, translated, fixed, table, named


def test_a_flagged_line_is_translated_again_and_replaced_only_where_the_variant_passes():
    lines, translated, fixed, table, named = _board()
    ask = Scripted(table)
    used, report = instructions.settle(lines, translated, ask, L["en"], L["de"])
    assert instructions.variant("gopher", "us_foreign_policy").endswith('questions about "US Foreign Policy"')
    assert used["gopher"] == {"astronomy": translated["gopher"]["astronomy"],  # sound: kept as it is
                              "medical_genetics": fixed["medical_genetics"],  # the variant passes: it replaces it
                              "us_foreign_policy": named,  # the variant fails: its quoted name given in English
                              "nutrition": translated["gopher"]["nutrition"]}  # no quotes to name it in: kept
    assert report == {"lines": 4, "flagged": 3, "retranslated": 2, "named_in_english": 1, "still_flagged": 1,
                      "unjudged": 0,
                      "by_check": {"subject_named": 3},
                      "ids": ["gopher/medical_genetics", "gopher/nutrition", "gopher/us_foreign_policy"],
                      "still": ["gopher/nutrition"]}
    assert used["back"]["gopher/medical_genetics"] == 'An AI model answers multiple-choice questions about "Medical Genetics"'
    # what instructions.json keeps is enough to settle again without asking anything
    again = Scripted({})
    seeded = instructions.seeds(used, L["en"], L["de"])
    ask_seeded = lambda texts, s, t: {x: seeded[s.code, t.code, x] for x in texts if (s.code, t.code, x) in seeded} \
        or again(texts, s, t)
    first = {"gopher": {k: used["retranslated"].get(f"gopher/{k}", {}).get("first", v)
                        for k, v in used["gopher"].items()}}
    assert instructions.settle(lines, first, ask_seeded, L["en"], L["de"]) == (used, report)
    assert again.asked == []


def test_a_line_still_failing_counts_in_the_flagged_share_and_fails_strict():
    checks_ = {"strings": 96, "flagged": {"share": 0.0417, "count": 4, "questions": 2}, "failed": []}
    report = {"lines": 4, "flagged": 2, "retranslated": 1, "still_flagged": 1}
    out = instructions.count_in(checks_, report)
    assert out["flagged"] == {"share": 0.05, "count": 5, "questions": 2, "instruction_lines": 1}
    assert out["failed"] == ["instruction_lines"] and out["instructions"] == report


@pytest.mark.parametrize("back,kept", [
    ("A highly intelligent and intelligent AI model answers multiple-choice questions about astronomy.", True),
    ("Please follow the instructions and provide a precise response.", False),
])
def test_a_line_rewritten_into_another_instruction_loses_its_frame(back, kept):
    english = instructions.english(["astronomy"])["gopher"]["astronomy"]
    assert checks.keeps_frame(back, english, "astronomy") is kept
    flags = checks.check_lines({"gopher/astronomy": (english, HEAD + "Astronomie.", back, "astronomy")}, L["de"])
    assert ("frame_lost" in flags.get("gopher/astronomy", [])) is not kept


def test_a_line_that_drops_a_word_keeps_its_frame():
    english = instructions.english(["astronomy"])["gopher"]["astronomy"]
    back = "A highly known and intelligent artificial intelligence responds questions about astronomy."
    assert checks.keeps_frame(back, english, "astronomy")
