"""Glossary hints: which terms a string holds, per subject and language; the file is checked; units carry them."""

from __future__ import annotations

import pytest

from conftest import assert_one_line_error, cli
from mmlu_ml.translate import glossary, in_context
from mmlu_ml.core.errors import MmluMlError

TERMS = """
zh:
  abstract_algebra:
    order: 阶
    group: 群
    factor group: 商群
    ring: 环
  "*":
    planet: 行星
fr:
  abstract_algebra:
    order: ordre
"""


@pytest.fixture()
def terms():
    return glossary.parse(TERMS, "t.yaml")


def test_whole_words_any_case_plurals_in_text_order(terms):
    assert terms.hints("Find the order of the factor group Z_6/<3>.", "abstract_algebra", "zh") == (
        ("order", "阶"), ("factor group", "商群"))  # "group" inside "factor group" gives no hint of its own
    assert terms.hints("Groups of ORDERS 4; a group", "abstract_algebra", "zh") == (("group", "群"), ("order", "阶"))
    assert terms.hints("A string, a border, disorder, ring-shaped", "abstract_algebra", "zh") == ()
    assert terms.hints("Is every ring a group?", "abstract_algebra", "zh") == (("ring", "环"), ("group", "群"))


def test_subject_and_language_scope(terms):
    assert terms.hints("The order of the court", "professional_law", "zh") == ()  # not algebra: no "order"
    assert terms.hints("Which planet has an order?", "astronomy", "zh") == (("planet", "行星"),)  # "*": every subject
    assert terms.hints("the order", "abstract_algebra", "fr") == (("order", "ordre"),)
    assert terms.hints("the order", "abstract_algebra", "de") == ()


def test_no_hints_for_what_the_translator_keeps(terms):
    assert terms.hints("ring(group)", "abstract_algebra", "zh") == ()  # a signature: the stage copies it
    assert terms.hints("Is `order(g)` the order of g?", "abstract_algebra", "zh") == (("order", "阶"),)
    assert terms.hints("Let $order_1$ be a ring", "abstract_algebra", "zh") == (("ring", "环"),)  # not inside $...$
    assert glossary.load(None).hints("len(string)", "high_school_computer_science", "zh") == ()


def test_at_most_max_hints(terms):
    text = "planet order ring group " * 3
    assert len(terms.hints(text, "abstract_algebra", "zh")) == glossary.MAX_HINTS == 4


def test_built_in_and_none_and_describe():
    built_in = glossary.load(None)
    assert built_in.hints("Find the order of S_7.", "abstract_algebra", "zh") == (("order", "阶"),)
    assert glossary.load("default").sha256 == built_in.sha256 and glossary.load("none") is None
    d = built_in.describe()
    assert d["path"] == "default" and len(d["sha256"]) == 64 and d["entries"]["zh"] >= 20


@pytest.mark.parametrize("text, needle", [
    ("zh: [1, 2", "not YAML"),
    ("- a\n- b", "mapping of language codes"),
    ("zh:\n  astrology:\n    order: 阶", "unknown subject 'astrology'"),
    ("zh:\n  abstract_algebra:\n    order: ''", "non-empty"),
    ("zh:\n  abstract_algebra: []", "mapping of English terms"),
])
def test_bad_files_are_named(text, needle):
    with pytest.raises(MmluMlError, match=needle) as e:
        glossary.parse(text, "bad.yaml")
    assert "bad.yaml" in str(e.value) and "\n" not in str(e.value)


def test_units_carry_hints_and_plain_units_keep_their_encoding():
    old = in_context.encode("Mercury", "Which planet?", "哪颗行星？")
    assert old == "\x1eoption-in-context\x1e" + '["Mercury", "Which planet?", "哪颗行星？"]'  # the cache keys of before
    unit = in_context.encode("Find the order of S_7.", hints=(("order", "阶"),))
    assert in_context.decode(unit) == ("Find the order of S_7.", "", "", (("order", "阶"),))
    assert in_context.text_of(unit) == "Find the order of S_7."
    assert in_context.sent_as("Find it.") == "Find it." and in_context.sent_as("x", (("x", "y"),)) != "x"
    assert unit != in_context.encode("Find the order of S_7.", hints=(("order", "次序"),))


def test_cli_names_a_bad_glossary(tiny_source, tmp_path):
    out = tmp_path / "out"
    assert_one_line_error(cli("translate", "--glossary", tmp_path / "missing.yaml", "--source", tiny_source,
                              "--languages", "zh", "--out", out), "missing.yaml", "does not exist")
    bad = tmp_path / "bad.yaml"
    bad.write_text("zh:\n  astrology:\n    order: 阶\n", encoding="utf-8")
    assert_one_line_error(cli("translate", "--glossary", bad, "--source", tiny_source, "--languages", "zh",
                              "--out", out), "unknown subject 'astrology'")
    good = tmp_path / "good.yaml"
    good.write_text(TERMS, encoding="utf-8")
    assert_one_line_error(cli("translate", "--translator", "identity", "--glossary", good, "--source", tiny_source,
                              "--languages", "zh", "--subjects", "astronomy", "--out", out), "takes no glossary hints", "--translator local")
    assert not out.exists()
