"""Translation checks: each failure mode is caught, good translations pass, the figures follow the contract."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conftest import SHARED
from mmlu_ml.core import checks
from mmlu_ml.core.languages import load
from mmlu_ml.core.mmlu import load as load_source
from mmlu_ml.core.records import Question

L = load().languages


def q(index: int, question: str, choices, subject: str = "astronomy") -> Question:
    return Question(subject=subject, split="test", index=index, question=question, choices=tuple(choices), answer="B")


EN = [
    q(0, "Which planet is closest to the Sun in our solar system?", ["Mercury", "Venus", "Earth", "Mars"]),
    q(1, "What is the main reason that the seasons change on Earth?", ["The tilt of its axis", "Its distance from the Sun",
      "The phases of the Moon", "Changes in solar activity"]),
    q(2, "Find the value of $x$ if $2x + 3 = 11$.", ["2", "3", "4", "5"]),
    q(3, "Which of the following statements about black holes is correct?", ["They emit no radiation at all",
      "They can evaporate slowly over time", "They are made of dark matter", "They only form from neutron stars"]),
]
FR = [
    ("Quelle planète est la plus proche du Soleil dans notre système solaire ?", ["Mercure", "Vénus", "Terre", "Mars"]),
    ("Quelle est la principale raison pour laquelle les saisons changent sur Terre ?", ["L'inclinaison de son axe",
     "Sa distance au Soleil", "Les phases de la Lune", "Les variations de l'activité solaire"]),
    ("Trouvez la valeur de $x$ si $2x + 3 = 11$.", ["2", "3", "4", "5"]),
    ("Laquelle des affirmations suivantes sur les trous noirs est correcte ?", ["Ils n'émettent aucun rayonnement",
     "Ils peuvent s'évaporer lentement avec le temps", "Ils sont faits de matière noire",
     "Ils ne se forment qu'à partir d'étoiles à neutrons"]),
]


def good_pairs():
    return [(en, replace(en, question=t, choices=tuple(c), language="fr")) for en, (t, c) in zip(EN, FR)]


def with_change(i: int, question: str | None = None, choices=None):
    pairs = good_pairs()
    en, tr = pairs[i]
    pairs[i] = (en, replace(tr, question=question if question is not None else tr.question,
                            choices=tuple(choices) if choices is not None else tr.choices))
    return pairs


def test_good_french_passes_every_check():
    result = checks.check_language(good_pairs(), L["fr"])
    assert result["failed"] == [], result
    assert result["questions"] == 4 and result["strings"] == 16  # numeric options are not counted
    assert set(checks.THRESHOLDS) <= set(result)
    json.dumps(result)


@pytest.mark.parametrize("name, pairs", [
    ("echoed_english", with_change(1, question=EN[1].question)),
    ("echoed_english", with_change(3, question="Which of the following statements sur les trous noirs is correct ?")),
    ("loops", with_change(0, question="Quelle planète est la plus proche du Soleil " + "du Soleil " * 8)),
    ("answered", with_change(0, question="La planète la plus proche du Soleil est Mercure.")),
    ("answered", with_change(2, question="Trouvez la valeur de $x$ si $2x + 3 = 11$.\nRéponse : C")),
    ("answered", with_change(3, question="La bonne réponse est B) ils peuvent s'évaporer lentement avec le temps.")),
    ("identical_options", with_change(1, choices=["L'inclinaison", "L'inclinaison", "Les phases", "Le Soleil"])),
    ("spans_lost", with_change(2, question="Trouvez la valeur de x si 2x + 3 = 11.")),
    ("length_ratio", with_change(1, choices=["L'inclinaison de son axe", "Sa distance", "Les phases de la Lune et "
                                             "aussi beaucoup d'autres choses qui n'ont rien à voir " * 3, "Le Soleil"])),
    ("copied_example", with_change(3, choices=["Ils n'émettent aucun rayonnement", "Le juge a statué que le contrat "
                                                "était nul", "Ils sont faits de matière noire", "Ils ne se forment pas"])),
    ("not_target_language", with_change(1, question="Was ist der Hauptgrund dafür, dass sich die Jahreszeiten auf der "
                                                     "Erde ändern?")),
])
def test_each_failure_is_flagged(name, pairs):
    flagged = checks.flagged_strings(pairs, L["fr"])
    assert flagged.get(name), (name, flagged)
    clean = checks.flagged_strings(good_pairs(), L["fr"])
    assert not clean.get(name), clean


def test_repeated_question_across_ids():
    pairs = good_pairs()
    pairs[3] = (pairs[3][0], replace(pairs[3][1], question=pairs[0][1].question))
    result = checks.check_language(pairs, L["fr"])
    assert result["repeated_question"]["count"] == 2 and "repeated_question" in result["failed"]
    assert set(result["repeated_question"]["ids"]) == {"astronomy/test/0", "astronomy/test/3"}


def test_wrong_script_for_chinese_and_english_target_skips_language_checks():
    pairs = [(en, replace(en, language="zh")) for en in EN]  # English left in place of Chinese
    result = checks.check_language(pairs, L["zh"])
    assert "echoed_english" in result["failed"] and result["echoed_english"]["count"] >= 4
    russian = [(en, replace(en, question="Какая планета ближе всего к Солнцу в нашей системе?")) for en in EN[:1]]
    assert checks.flagged_strings(russian, L["zh"]).get("not_target_language") == ["astronomy/test/0:question"]
    chinese = [(en, replace(en, question="在我们的太阳系中，哪颗行星离太阳最近？", choices=("水星", "金星", "地球", "火星")))
               for en in EN[:1]]
    assert checks.flagged_strings(chinese, L["zh"]) == {}
    same = checks.check_language([(en, en) for en in EN], L["en"])  # identity English: nothing to flag
    assert same["failed"] == []


def test_languages_lingua_lacks_still_get_the_other_checks():
    hausa = [(EN[0], replace(EN[0], question="Wace duniya ce ta fi kusa da Rana a tsarin hasken rana namu?",
                             choices=("Mercury", "Venus", "Duniya", "Mars")))]
    result = checks.check_language(hausa, L["ha"])
    assert result["failed"] == [] and "lingua" not in result["detector"].split(" ")[0]
    nepali_as_english = [(en, en) for en in EN]
    assert "echoed_english" in checks.check_language(nepali_as_english, L["ne"])["failed"]


def test_ids_are_capped_and_shares_are_fractions():
    many = [q(i, f"Question number {i} about the orbit of a distant planet?", ["a one", "b two", "c three", "d four"])
            for i in range(60)]
    pairs = [(en, en) for en in many]
    result = checks.check_language(pairs, L["de"])
    assert result["echoed_english"]["count"] == 60 and len(result["echoed_english"]["ids"]) == checks.MAX_IDS
    assert 0.0 <= result["echoed_english"]["share"] <= 1.0


def test_script_share():
    assert checks.script_share("Привет мир", "Cyrl") == 1.0
    assert checks.script_share("Hello мир", "Cyrl") == pytest.approx(3 / 8)
    assert checks.script_share("光合作用", "Hans") == 1.0


def test_real_reference_translations_are_rarely_flagged(mmlu_dir):
    """Okapi's French dev translations (ChatGPT, decent): few false alarms on real MMLU text."""
    path = SHARED / "reference" / "okapi" / "fr_dev.jsonl"
    english = {q.id: q for q in load_source(str(mmlu_dir), _dev_subjects(path), ["dev"]).questions}
    pairs = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            en = english[f"{row['subject']}/dev/{row['index']}"]
            pairs.append((en, replace(en, question=row["question"], choices=tuple(row[k] for k in "ABCD"))))
    result = checks.check_language(pairs, L["fr"])
    flagged = {k for keys in checks.flagged_strings(pairs, L["fr"]).values() for k in keys}
    assert len(pairs) > 200 and len(flagged) / (5 * len(pairs)) < 0.06, result


def _dev_subjects(path) -> list[str]:
    return sorted({json.loads(line)["subject"] for line in path.read_text(encoding="utf-8").split("\n") if line.strip()})
