"""Spans of MMLU text that a translator must return unchanged, and the HTML form that keeps them so.

Protected: LaTeX (`$...$` by Pandoc's rule, so `$50,000 and $20,000` stays money, `\\[...\\]`, `\\frac{..}`),
formula tokens with `^` or `_` (`x^2`, `10^-28`, `F4_{16}`; whole with the brackets they open or close:
`(y - 3)^2`), blanks (`___`), inline code, lines of code in multi-line questions (pseudo-code, C, Python), and
whole options that are a function signature (`len(string)`).

Azure keeps text only with the HTML text type: protected spans go inside `<span class="notranslate">`, and
`<`, `>`, `&` are escaped everywhere so the HTML stays well formed. `from_html(to_html(t)) == t` for every t.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

# Part of the fingerprints of translators that protect: the form spans are sent in (HTML, placeholders). Which
# spans a text has goes into its own cache key (translate/plan.py's spans_for), so a change to the rules below
# re-translates only the strings whose spans it moves; a change to that form needs a new VERSION.
VERSION = "p1"

_DOTALL_PATTERNS = [
    r"\$\$.+?\$\$",                                   # display math
    r"\\\[.+?\\\]",                                   # \[ ... \]
    r"\\\(.+?\\\)",                                   # \( ... \)
    r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}",             # environments
]
_LINE_PATTERNS = [
    # inline math, Pandoc's rule: opening $ before a non-space, closing $ after a non-space and not before a digit
    r"(?<![\\$\w])\$(?![\s$])(?:\\.|[^$\\\n])+?(?<![\s\\])\$(?!\d)",
    r"\\[A-Za-z]+(?:\{[^{}\n]*\})*",                  # a LaTeX command and its brace arguments
    r"_{2,}",                                         # blanks to fill in
    r"`[^`\n]+`",                                     # inline code
    # formula tokens: a caret or underscore between word characters (x^2, (c^2, 10^-28, F4_{16})
    r"(?<!\S)\S*?[A-Za-z0-9)\]}](?:\^|_(?!_))[A-Za-z0-9({\[+\-−]\S*",
]
_CODE_LINE = re.compile(
    r"←|[=(){}].*;\s*$|^\s*[{}]\s*$|==|!=|\|\||&&|/\*.*\*/"
    r"|^\s*(?:IF|ELSE|FOR EACH|REPEAT|DISPLAY|RETURN|PROCEDURE|APPEND|INPUT)\b"
    r"|^\s*(?:int|for|while|if|else|print|def|return|public|private|void|class|import)\b.*[(){};:=]")
_SIGNATURE = re.compile(r"\s*[A-Za-z_][\w.]*\s?\(([\w\[\],.=*'\" ]{0,40})\)\s*")
_COMPILED = [re.compile(p, re.S) for p in _DOTALL_PATTERNS] + [re.compile(p) for p in _LINE_PATTERNS]
_TRAILING = ".,;:?!"
_TRIGGER = re.compile(r"[$\\_^`{}]|\)\s*$")  # a character every pattern above needs
_LETTER = re.compile(r"[^\W\d_]")  # every letter of any script (and a few other numbers)
_SPECIAL = re.compile(r"[&<>]")
_SPAN_OPEN = '<span class="notranslate">'
_SPAN_CLOSE = "</span>"
_PLACEHOLDER = re.compile(r"\[F(\d+)\]")
_SPAN_RE = re.compile(r"""<span\s+class\s*=\s*["']notranslate["']\s*>(.*?)</span\s*>""", re.S | re.I)


_OPEN, _CLOSE = "([{", ")]}"
_MATH_WORDS = frozenset("log ln lg sin cos tan cot sec csc sinh cosh tanh arcsin arccos arctan exp mod max min lim "
                        "det gcd lcm sqrt".split())
_REACH = 60  # characters a formula token may be widened by, each way, to take in its brackets


def _is_word(token: str) -> bool:
    """A token of prose: two letters or more, nothing else but brackets and punctuation (`(in`, `Ka`, but not
    `cx^2`, `x`, `log`)."""
    core = token.strip(_OPEN + _CLOSE + _TRAILING + "|")
    return len(core) >= 2 and core.isalpha() and core.lower() not in _MATH_WORDS


def _strip_trailing(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return end


def _unmatched(text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """Positions in text[start:end] of closing brackets with no opening one before them, and of opening
    brackets never closed."""
    closers, openers = [], []
    for i in range(start, end):
        c = text[i]
        if c in _OPEN:
            openers.append(i)
        elif c in _CLOSE:
            if openers and text[openers[-1]] == _OPEN[_CLOSE.index(c)]:
                openers.pop()
            else:
                closers.append(i)
    return closers, openers


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """A formula token (`(x^2` of `(x^2 + 1)`, `3)^2` of `(y - 3)^2`) widened to take in the brackets it
    opens or closes, where what it takes in is a formula too (single letters, numbers, log and sin); else
    cut back to a part without an unmatched bracket. Protected half a bracket pair, a formula came back
    with its other half lost."""
    closers, openers = _unmatched(text, start, end)
    if not closers and not openers:
        return start, end
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    new_start, new_end = start, end
    if openers:  # forward to the bracket closing the first opener, then on over the token it ends
        depth, i = 0, openers[0]
        for i in range(openers[0], min(line_end, end + _REACH)):
            depth += (text[i] in _OPEN) - (text[i] in _CLOSE)
            if depth == 0:
                break
        if depth == 0:
            new_end = i + 1
            while new_end < line_end and not text[new_end].isspace():
                new_end += 1
            new_end = _strip_trailing(text, i + 1, new_end)
    if closers:  # back to the bracket opening the last closer, then back over the token it starts
        depth, i = 0, closers[-1]
        for i in range(closers[-1], max(line_start, start - _REACH) - 1, -1):
            depth += (text[i] in _CLOSE) - (text[i] in _OPEN)
            if depth == 0:
                break
        if depth == 0:
            new_start = i
            while new_start > line_start and not text[new_start - 1].isspace():
                new_start -= 1
    added = text[new_start:start] + " " + text[end:new_end]
    if not any(_unmatched(text, new_start, new_end)) and not any(_is_word(t) for t in added.split()):
        return new_start, new_end
    while start < end:  # cut back at an unmatched bracket: keep the side holding more of the formula's ^ and _
        closers, openers = _unmatched(text, start, end)
        if not closers and not openers:
            break
        at = closers[-1] if closers else openers[0]
        left, right = (start, at), (at + 1, end)
        start, end = max(right, left, key=lambda side: (_operators(text, *side), side[1] - side[0]))
        end = _strip_trailing(text, start, end)
    return start, end


def _operators(text: str, start: int, end: int) -> int:
    return sum(text.count(c, start, end) for c in "^_")


@lru_cache(maxsize=1 << 17)  # the stage and a backend both ask for each string; each language asks again
def _intervals(text: str) -> tuple[tuple[int, int], ...]:
    """Sorted, merged (start, end) intervals of the protected spans of `text`."""
    if "\n" not in text and not _TRIGGER.search(text):  # most strings: nothing any pattern could match
        return ()
    found: list[tuple[int, int]] = []
    sig = _SIGNATURE.fullmatch(text)
    if sig and not re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", sig.group(1)):
        found.append((len(text) - len(text.lstrip()), len(text.rstrip())))
    for pattern in _COMPILED:
        for m in pattern.finditer(text):
            start, end = m.span()
            if pattern is _COMPILED[-1]:  # formula token: leave sentence punctuation outside, blanks to theirs
                if "__" in m.group():
                    continue
                start, end = _balanced(text, start, _strip_trailing(text, start, end))
            if end > start:
                found.append((start, end))
    if "\n" in text:  # code lines only in multi-line strings, where code blocks live
        offset = 0
        for line in text.split("\n"):
            if _CODE_LINE.search(line) and line.strip():
                lead = len(line) - len(line.lstrip())
                found.append((offset + lead, offset + len(line.rstrip())))
            offset += len(line) + 1
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def intervals(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each protected span of `text`, in order, none overlapping."""
    return _intervals(text)


def spans(text: str) -> list[str]:
    """The substrings of `text` that must come back unchanged from translation, in order."""
    return [text[s:e] for s, e in _intervals(text)]


def is_untranslatable(text: str) -> bool:
    """True when nothing in `text` is worth sending: empty, wholly protected, or no letter outside the
    protected spans (numbers, `$375,000`, `(3, 6)`). The stage copies such strings and never pays for them."""
    parts, last = [], 0
    for s, e in _intervals(text):
        parts.append(text[last:s])
        last = e
    parts.append(text[last:])
    rest = "".join(parts)
    first = _LETTER.search(rest)  # a C-level search; \w also admits other numbers (², ½), so confirm
    return first is None or not any(ch.isalpha() for ch in rest[first.start():])


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_html(text: str) -> str:
    """`text` as well-formed HTML: protected spans inside notranslate spans, `< > &` escaped everywhere."""
    spans_at = _intervals(text)
    if not spans_at and not _SPECIAL.search(text):  # most strings: already well-formed HTML as they are
        return text
    out, last = [], 0
    for s, e in spans_at:
        out += [_escape(text[last:s]), _SPAN_OPEN, _escape(text[s:e]), _SPAN_CLOSE]
        last = e
    out.append(_escape(text[last:]))
    return "".join(out)


def from_html(markup: str) -> str:
    """The text of a (translated) `to_html` result: notranslate spans unwrapped, entities unescaped."""
    if "<" not in markup and "&" not in markup:  # most strings: plain text, nothing to undo
        return markup
    out, last = [], 0
    for m in _SPAN_RE.finditer(markup):
        out += [html.unescape(markup[last:m.start()]), html.unescape(m.group(1))]
        last = m.end()
    out.append(html.unescape(markup[last:]))
    return "".join(out)


def to_placeholders(text: str) -> tuple[str, list[str]] | None:
    """`text` with its protected spans replaced by [F1], [F2], ... and the spans in that order; None when it
    has no span, or already holds such a placeholder. For an LLM: it rewrites a formula it can see
    ("$3!\\cdot 5!$" -> "3!乘以 5!") but carries "[F1]" over (a bare "[1]" it sometimes drops as a citation)."""
    intervals = _intervals(text)
    if not intervals or _PLACEHOLDER.search(text):
        return None
    out, last = [], 0
    for k, (s, e) in enumerate(intervals, 1):
        out += [text[last:s], f"[F{k}]"]
        last = e
    out.append(text[last:])
    return "".join(out), [text[s:e] for s, e in intervals]


def from_placeholders(output: str, spans_in_order: list[str]) -> str | None:
    """`output` with [Fk] replaced by the k-th span; None unless each placeholder is there exactly once and
    there is no other."""
    found = _PLACEHOLDER.findall(output)
    if sorted(found) != sorted(str(k) for k in range(1, len(spans_in_order) + 1)):
        return None
    return _PLACEHOLDER.sub(lambda m: spans_in_order[int(m.group(1)) - 1], output)


def utf16_len(text: str) -> int:
    """Characters as Azure counts and bills them: code points, surrogate pairs (outside the BMP) counting 2."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2
