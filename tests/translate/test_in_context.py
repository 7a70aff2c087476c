"""mmlu_ml.translate.in_context: an option, its question and the question's translation carried as one string."""

from __future__ import annotations

from hypothesis import given, strategies as st

from mmlu_ml.translate import in_context


def test_units_and_plain_strings():
    unit = in_context.encode("Mercury", "Which planet is closest to the Sun?", "Quelle planète ... ?")
    assert in_context.decode(unit) == ("Mercury", "Which planet is closest to the Sun?", "Quelle planète ... ?", ())
    assert in_context.text_of(unit) == "Mercury" and in_context.text_of("Mercury") == "Mercury"
    assert in_context.decode("Mercury") is None
    # the same option under another question is another string: another cache row
    assert unit != in_context.encode("Mercury", "Which metal is liquid at room temperature?", "Quel métal ... ?")


def test_which_options_go_with_their_question():
    assert in_context.wants_context("Mercury", 3) and in_context.wants_context("The Ten Commandments", 3)
    assert not in_context.wants_context("It is the largest planet", 3)
    assert not in_context.wants_context("   ", 3) and not in_context.wants_context("Mercury", 0)


@given(st.text(), st.text(), st.text())
def test_round_trip(option, question, translated):
    unit = in_context.encode(option, question, translated)
    assert in_context.decode(unit) == (option, question, translated, ())
    assert in_context.text_of(unit) == option


def test_options_the_stage_copies_never_go_in_context():
    assert not in_context.wants_context("42", 3) and not in_context.wants_context("$x^2$", 3)
