"""Property tests (hypothesis) for cot0 answer parsing: the last stated answer wins, in any language's own
word and letters, whatever text surrounds it; text with no stated answer is unparsed, never a guess."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from mmlu_ml.core import languages
from mmlu_ml.core.protocols import FULLWIDTH, parse_answer

TABLE = languages.load()
LANGS = [TABLE.languages[c] for c in ("en", "de", "ar", "bn", "zh", "sw", "hi", "ja")]
LETTERS = "ABCD"
# filler that cannot itself state an answer: no colon of any width
FILLER = st.text(st.characters(blacklist_characters=":：", blacklist_categories=("Cs",)), max_size=80)


def spellings(lang, i):
    return [LETTERS[i], LETTERS[i].lower(), FULLWIDTH[i], f"({LETTERS[i]})", f"**{LETTERS[i]}**"] + (
        [lang.letters[i]] if lang.letters else [])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LANGS), FILLER, FILLER, st.integers(0, 3), st.integers(0, 3), st.data())
def test_last_stated_answer_wins(lang, before, between, first, last, data):
    s1 = data.draw(st.sampled_from(spellings(lang, first)))
    s2 = data.draw(st.sampled_from(spellings(lang, last)))
    word = data.draw(st.sampled_from([lang.answer_word, "Answer"]))
    text = f"{before}\n{lang.answer_word}: {s1}\n{between}\n{word}: {s2}"
    assert parse_answer(text, lang) == LETTERS[last]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LANGS), FILLER)
def test_no_stated_answer_is_unparsed(lang, text):
    assert parse_answer(text, lang) is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LANGS), st.integers(0, 3), st.sampled_from(["", " ", "  ", "\t"]))
def test_spacing_and_fullwidth_colon(lang, i, space):
    for colon in (":", "："):
        assert parse_answer(f"{lang.answer_word}{space}{colon}{space}{LETTERS[i]}", lang) == LETTERS[i]


def test_letter_must_stand_alone():
    en = TABLE.languages["en"]
    assert parse_answer("Answer: Because the orbit is elliptical", en) is None
    assert parse_answer("Answer: Be careful. Answer: D.", en) == "D"
