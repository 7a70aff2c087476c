"""Protected spans: what must come back unchanged, and the HTML form that carries it through Azure."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from support.fake_azure import fake_translate
from mmlu_ml.core import protect


def test_math_is_protected_and_money_is_not():
    text = "Find all $c$ so that $x^2-6x+c<0$ has real solutions; it costs $50,000 and $20,000 in total."
    assert protect.spans(text) == ["$c$", "$x^2-6x+c<0$"]
    assert protect.spans("If $-200$ to $200$, then \\[\\frac{1}{2^1}\\] and \\frac{17}{50}") == [
        "$-200$", "$200$", "\\[\\frac{1}{2^1}\\]", "\\frac{17}{50}"]


def test_blanks_formula_tokens_code():
    assert protect.spans("The official ______ is set forth in _______.") == ["______", "_______"]
    assert protect.spans("Evaluate (c^2 − b^2)^2 + a^2 for a = 5.") == ["(c^2 − b^2)^2", "a^2"]
    code = "The program below:\n sum ← numList [1]\n FOR EACH value IN numList\n DISPLAY sum\n What is shown?"
    assert protect.spans(code) == ["sum ← numList [1]", "FOR EACH value IN numList", "DISPLAY sum"]
    assert protect.spans("ljust(width[, fillchar])") == ["ljust(width[, fillchar])"]
    assert protect.spans("Enzyme(s) and hormones (ABC)") == []  # English words inside: not a signature


def test_a_formula_token_takes_in_the_brackets_it_opens_or_closes():
    """Protected half a bracket pair (`Z_3[x]/(x^2` of `Z_3[x]/(x^2 + c)`), a formula came back without its
    other half. A token is widened over single letters, numbers and function names; over prose it is cut
    back instead."""
    assert protect.spans("Find all c in Z_3 such that Z_3[x]/(x^3 + cx^2 + 1) is a field.") == [
        "Z_3", "Z_3[x]/(x^3 + cx^2 + 1)"]
    assert protect.spans("Let C be the circle (y - 3)^2 + z^2 = 1.") == ["(y - 3)^2", "z^2"]
    assert protect.spans("The curves y = (sin x + cos x)^4 meet") == ["(sin x + cos x)^4"]
    assert protect.spans("O((log N)^2)") == ["O((log N)^2)"] and protect.is_untranslatable("O((log N)^2)")
    assert protect.spans("a volume (in m^3) and") == ["m^3"]  # "(in" is prose: the bracket stays outside
    assert protect.spans("(The Ka for phenol is 1 × 10^-10.)") == ["10^-10"]
    assert protect.spans("f(x) = x/(1 + x^3) is rotated") == ["x/(1 + x^3)"]
    assert protect.spans("the f(x^2 is big") == ["x^2"]  # no closing bracket: the side with the formula stays
    assert protect.spans("see (the value x^2))") == ["x^2"]


def test_untranslatable_strings_are_copied_not_sent():
    for text in ("574", "-80%", "7/12", "$375,000", "(3, 6)", "x^2", "\\frac{1}{3}", "", "  ", "______"):
        assert protect.is_untranslatable(text), text
    for text in ("True, True", "I and II", "None of the above", "9 m", "x^2 meters"):
        assert not protect.is_untranslatable(text), text


def test_html_form_escapes_and_wraps():
    html = protect.to_html("If a < b & $x_1 > 0$, fill ___")
    assert html == ('If a &lt; b &amp; <span class="notranslate">$x_1 &gt; 0$</span>, fill '
                    '<span class="notranslate">___</span>')
    assert protect.from_html(html) == "If a < b & $x_1 > 0$, fill ___"
    # what the service may do to our markup: other quoting, entities it adds
    assert protect.from_html("<span class='notranslate'>$x$</span> &quot;ok&quot; &#39;") == "$x$ \"ok\" '"


def test_utf16_length_counts_surrogate_pairs_twice():
    assert protect.utf16_len("abc") == 3 and protect.utf16_len("é中") == 2 and protect.utf16_len("a😀") == 3


_ALPHABET = st.sampled_from(list("ab xyz$\\_^{}()[]<>&;`=←\n.,0123") + ["&amp;", "<span class=\"notranslate\">",
                                                                         "</span>", "IF ", "___", "x^2", "é", "中"])
_TEXT = st.lists(st.one_of(_ALPHABET, st.text(max_size=3)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_round_trip_is_exact(text):
    assert protect.from_html(protect.to_html(text)) == text


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_spans_survive_a_translation(text):
    """Through the fake service's translation (which rewrites every letter outside the markup), every
    protected span comes back exactly, and the escaped characters come back as they were."""
    back = protect.from_html(fake_translate(protect.to_html(text), "sw", html=True))
    for span in protect.spans(text):
        assert span in back
    assert back.count("<") == text.count("<") and back.count("&") == text.count("&")


_FORMULA_TEXT = st.lists(st.sampled_from(["x^2", "a_1", "(", ")", "[", "]", "{", "}", " ", " + ", "3", "log ",
                                            "in ", "The ", "y", ".", "?", "2^(", "cx^2"]), max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(_FORMULA_TEXT)
def test_formula_spans_hold_whole_bracket_pairs(text):
    if protect._SIGNATURE.fullmatch(text):  # a whole option that is a call keeps its own brackets
        return
    for span in protect.spans(text):
        closers, openers = protect._unmatched(span, 0, len(span))
        assert not closers and not openers, (text, span)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXT, st.text(max_size=20)))
def test_untranslatable_means_no_letter_outside_the_spans(text):
    cuts = [0, *(i for interval in protect._intervals(text) for i in interval), len(text)]
    outside = "".join(text[a:b] for a, b in zip(cuts[::2], cuts[1::2]))
    assert protect.is_untranslatable(text) == (not any(ch.isalpha() for ch in outside))
    assert protect.utf16_len(protect.to_html(text)) == len(protect.to_html(text).encode("utf-16-le")) // 2


def test_placeholders_carry_spans_through_a_reordering_reply():
    text = "Divide $11$ by the reciprocal of $1815 \\div 11$."
    masked, spans = protect.to_placeholders(text)
    assert masked == "Divide [F1] by the reciprocal of [F2]." and spans == ["$11$", "$1815 \\div 11$"]
    assert protect.from_placeholders("将 [F1] 除以 [F2] 的倒数。", spans) == "将 $11$ 除以 $1815 \\div 11$ 的倒数。"
    assert protect.from_placeholders("[F2] 的倒数除 [F1]", spans) == "$1815 \\div 11$ 的倒数除 $11$"
    for lost in ("将 [F1] 除以倒数。", "将 [F1] 除以 [F2][F2]。", "将 [F1] 除以 [F2] [F3]。", "将 1 除以 2。"):
        assert protect.from_placeholders(lost, spans) is None, lost
    assert protect.to_placeholders("No formula here.") is None
    assert protect.to_placeholders("See [F1] and $x$.") is None  # could not be told from ours


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_placeholder_round_trip_is_exact(text):
    masked = protect.to_placeholders(text)
    if masked is None:
        assert not protect.spans(text) or re.search(r"\[F\d+\]", text)
        return
    assert protect.from_placeholders(masked[0], masked[1]) == text
    assert len(re.findall(r"\[F\d+\]", masked[0])) == len(masked[1]) == len(protect.spans(text))
