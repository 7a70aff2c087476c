"""Prompts and reply parsing shared by the LLM translators (no model, no server)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from mmlu_ml.core import examples as llm_examples
from mmlu_ml.core.languages import load
from mmlu_ml.core.text import copies_example, find_loop, keep_as_is
from mmlu_ml.translate.llm.prompt import (ReplyError, batch_messages, clean_single, defects, insisting, instructions,
                                          parse_batch, single_messages, token_budget, trim_loop)

L = load().languages


def reply(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def test_parse_batch_accepts_exactly_the_ids_in_order():
    assert parse_batch(reply({"1": "un", "2": "deux"}), 2) == ["un", "deux"]
    assert parse_batch("```json\n" + reply({"1": "un"}) + "\n```", 1) == ["un"]  # a fence around valid JSON


@pytest.mark.parametrize("bad, why", [
    ("", "empty"), (None, "empty"), ('{"1": "un", "2": "de', "not JSON"), ('["un", "deux"]', "not a JSON object"),
    (reply({"1": "un"}), "missing ids ['2']"), (reply({"1": "un", "2": "deux", "3": "trois"}), "extra ids ['3']"),
    (reply({"2": "deux", "1": "un"}), "out of order"), (reply({"1": "un", "2": ""}), "id 2 has no translation"),
    (reply({"1": "un", "2": 2}), "id 2 has no translation"),
])
def test_parse_batch_rejects_replies_that_could_shift(bad, why):
    with pytest.raises(ReplyError, match=why.replace("[", r"\[").replace("]", r"\]")):
        parse_batch(bad, 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1).filter(str.strip), min_size=1, max_size=8), st.randoms())
def test_parse_batch_round_trips_and_catches_any_permutation(texts, rnd):
    obj = {str(i + 1): t for i, t in enumerate(texts)}
    assert parse_batch(reply(obj), len(texts)) == texts
    keys = list(obj)
    rnd.shuffle(keys)
    if keys != list(obj):
        with pytest.raises(ReplyError):
            parse_batch(reply({k: obj[k] for k in keys}), len(texts))


def test_batch_messages_number_the_strings_and_show_the_shape():
    msgs = batch_messages(["What is 2+2?", "four"], L["en"], L["fr"])
    assert msgs[0]["role"] == "system" and "French" in msgs[0]["content"] and "same keys" in msgs[0]["content"]
    assert json.loads(msgs[-1]["content"]) == {"1": "What is 2+2?", "2": "four"}
    example_in, example_out = json.loads(msgs[1]["content"]), json.loads(msgs[2]["content"])
    n = len(llm_examples.ENGLISH)
    assert list(example_in) == list(example_out) == [str(i + 1) for i in range(n)]
    assert example_out["3"] == llm_examples.TRANSLATED["fr"][2]


def test_single_messages_use_the_language_examples_or_none():
    msgs = single_messages("Which planet is largest?", L["en"], L["de"])
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * len(llm_examples.ENGLISH) + ["user"]
    assert msgs[-1]["content"] == "Which planet is largest?"
    assert "Never answer" in msgs[0]["content"] and "German" in msgs[0]["content"]
    bare = single_messages("x", L["en"], L["yo"]) if "yo" not in llm_examples.TRANSLATED else None
    if bare is not None:
        assert len(bare) == 2
    assert "Simplified Chinese" in instructions(L["en"], L["zh"], batch=False)


def test_every_language_of_the_table_has_examples():
    assert [code for code in L if code != "en" and not llm_examples.pairs(code)] == []


def test_every_language_example_keeps_its_formula():
    for code, examples in llm_examples.TRANSLATED.items():
        assert len(examples) == len(llm_examples.ENGLISH), code
        assert "$k^2 < 20$" in examples[1] and "$k$" in examples[1], code


def test_clean_single_strips_wrappers_and_keeps_edges():
    assert clean_single('"Bonjour"', "Hello") == "Bonjour"
    assert clean_single("Translation: Bonjour", "Hello") == "Bonjour"
    assert clean_single("Bonjour", " Hello ") == " Bonjour "
    assert clean_single('"quoted"', '"quoted"') == '"quoted"'  # the source's own quotes stay
    assert clean_single("CO₂", "CO2") == "CO2"  # same text after NFKC: the source's form
    assert clean_single("Si $3x = 84$ ?", "If 3 x = 84 ?") == "Si 3x = 84 ?"  # no invented math markup
    assert clean_single("Il coûte $5$.", "It costs $5.") == "Il coûte $5$."


def test_keep_as_is_only_formulas_and_quantities():
    assert all(keep_as_is(t) for t in ["HCl", "H2SO3", "Al(NO3)3", "CO2", "NaCl", " Si(CH3)4 ", "40 J", "6.0 J",
                                       "200Ω", "9.8 m/s^2", "120 V", "25 °C", "3 kHz", "60 W"])
    assert not any(keep_as_is(t) for t in ["No", "DNA", "True", "A", "In", "USA", "Hello world", "x^2", "5 tens",
                                           "5 ones", "2 apples", "10 years"])


def test_find_and_trim_loops():
    looped = "La réponse est 5. " + "et puis " * 12
    assert find_loop(looped) is not None
    assert trim_loop(looped) == "La réponse est 5. et puis"
    assert find_loop("Le chat dort sur le canapé.") is None
    assert find_loop("___ ___ ___ ___ ___", "Fill ___ ___ ___ ___ ___") is None  # the source had it
    assert find_loop("............") is None
    assert find_loop("ముంచి ముంచి ముంచి") is not None  # three copies of a longer unit, as the guard leaves them
    assert find_loop("ఇచ్్్్్్్్్") is not None  # Telugu vowel killers: marks are letters here
    assert find_loop("Le chat, le chat, le chat ?", "The cat, the cat, the cat?") is None


def test_defects_name_what_is_visibly_wrong():
    src = "A ball falls from $h = 20$ m. How long does it take to land on the ground below us?"
    assert defects("Une balle tombe de $h = 20$ m. Combien de temps met-elle pour toucher le sol ?", src, L["fr"]) == []
    assert "span lost" in defects("Une balle tombe de 20 m. Combien de temps ?", src, L["fr"])
    assert "question mark lost" in defects("Une balle tombe de $h = 20$ m et met 2 s.", src, L["fr"])
    assert "too short" in defects("$h = 20$ ?", src, L["fr"])
    assert "answer words" in defects("Une balle tombe de $h = 20$ m ? The answer is 2 s.", src, L["fr"])
    assert "loop" in defects("Une balle tombe de $h = 20$ m ? " + "et et et " * 6, src, L["fr"])
    assert "english" in defects(src, src, L["fr"]) and "english" in defects("an acid", "an acid", L["de"])
    assert defects("Metformin", "Metformin", L["de"]) == [] and defects("Natural Law", "Natural Law", L["fr"]) == []
    assert defects("一个球从 $h = 20$ m 落下。它需要多长时间才能落到我们下面的地面上？", src, L["zh"]) == []
    assert insisting("Hi", L["de"]).endswith("\nHi") and "German" in insisting("Hi", L["de"])


def test_copied_examples_are_told_from_shared_phrases():
    copied = "Ist es wahr, dass er unter Zwang unterzeichnet worden war?"  # from the judge example
    assert copies_example(copied, "Is subjection to emotional exploitation harmful?", L["de"])
    assert "copied example" in defects(copied, "Is subjection to emotional exploitation bad?", L["de"])
    # the source shares a phrase with the example's English: the same wording is a translation, not a copy
    assert not copies_example("Aucune de ces réponses", "None of these", L["fr"])
    assert not copies_example("En négligeant la résistance de l'air, quelle est la vitesse ?",
                              "Neglecting air resistance, what is the speed?", L["fr"])
    assert not copies_example("Finden Sie die Summe", "Find the sum", L["de"])  # too short to be a copy


def test_token_budget_grows_with_input_and_script():
    assert token_budget(10, L["fr"]) < token_budget(100, L["fr"])
    assert token_budget(100, L["bn"]) > token_budget(100, L["fr"])

