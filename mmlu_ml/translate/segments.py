"""Cutting a long text into lines and sentences, for a translator that failed on it whole.

A small model given a passage of several sentences may summarise it, answer it or drop its formulas; given one
sentence at a time it rarely does. `split` cuts at line breaks, then after a sentence's final punctuation
followed by a capital letter or an opening quote; never inside a protected span (mmlu_ml.core.protect), and never
after an abbreviation ("Mr. T", "U.S. President", "e.g. The"), for which the word before the full stop must
end in two lower-case letters. `join` puts translated pieces back with the separators between them, where
sentence gaps are dropped for scripts written without spaces.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..core import protect

VERSION = "s1"  # part of the local translator's fingerprint: a change here changes outputs, so cache keys
_NO_SPACES = frozenset({"Hans", "Hant", "Jpan", "Thai"})  # scripts whose sentences follow without a space
# The space after a sentence: its end (a word of two lower-case letters at least, then . ! or ?; or ? ! after
# anything), a closing quote maybe, and a capital next, maybe after an opening quote.
_NEXT = r"(?=[\"“‘(]?[A-Z])"
_SENTENCE_GAP = re.compile(rf"(?<=[a-z]{{2}}[.!?])([\"”’)]?)(\s+){_NEXT}|(?<=[?!])([\"”’)]?)(\s+){_NEXT}")


class Piece(NamedTuple):
    text: str
    sep: str  # what follows it in the source: a line break, a space between sentences, or nothing
    kept: bool  # wholly inside the source's protected spans (a line of code): it goes unchanged


def split(text: str) -> list[Piece]:
    """The pieces of `text` in order; "".join(p.text + p.sep for p in split(text)) == text. Pieces that are
    only whitespace are folded into the separators."""
    kept = protect.intervals(text)
    cuts: list[tuple[int, int]] = []  # (start, end) of each separator
    for m in re.finditer(r"\s*\n\s*", text):
        cuts.append((m.start(), m.end()))
    for m in _SENTENCE_GAP.finditer(text):
        gap = m.span(2) if m.group(2) is not None else m.span(4)
        if not any(start < gap[1] and gap[0] < end for start, end in kept) \
                and not any(start <= gap[0] < end or start < gap[1] <= end for start, end in cuts):
            cuts.append(gap)
    pieces, last = [], 0
    for start, end in sorted(cuts):
        if start < last:
            continue
        pieces.append([text[last:start], text[start:end]])
        last = end
    pieces.append([text[last:], ""])
    out: list[Piece] = []
    lead, at = "", 0
    for piece, sep in pieces:
        if not piece:  # a text opening with a separator: it goes before the first piece
            lead += sep
            at += len(sep)
            continue
        start, end = at + len(piece) - len(piece.lstrip()), at + len(piece.rstrip())
        inside = any(s <= start and end <= e for s, e in kept)
        out.append(Piece(lead + piece, sep, inside))
        lead, at = "", at + len(piece) + len(sep)
    if lead and out:
        out[-1] = out[-1]._replace(sep=out[-1].sep + lead)
    return out or [Piece(text, "", False)]


def join(pieces: list[tuple[str, str]], script: str) -> str:
    """Translated pieces with their separators; a gap between sentences of one line is dropped for `script`s
    written without spaces (Chinese sentences follow each other directly)."""
    parts = []
    for piece, sep in pieces:
        if script in _NO_SPACES and sep and "\n" not in sep:
            sep = ""
        parts.append(piece + sep)
    return "".join(parts)
