"""Short answer options translated with their question as context, carried through the stage as one string.

A one-word option is ambiguous on its own: "Shang" became 上海 and "Mercury" 水银 until the model saw the
question they answer (BENCHMARKS.md). A translator whose `option_context(target)` is N > 0 gets each option
of at most N words as a unit: the option, its question and the question's translation, encoded into one string.
So the stage's string machinery (de-duplication, cache keys over the exact text, batches, counts) needs no
second path, and the same option under two questions is two units, two cache rows. Other translators never
see a unit. A unit may also carry glossary hints (mmlu_ml.translate.glossary): (term, translation) pairs the translator
gets as exchanges before the text; a question with hints is a unit with no question of its own.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from ..core import protect

_MARK = "\x1eoption-in-context\x1e"  # a control character no MMLU string holds


class Unit(NamedTuple):
    text: str  # what is translated: an option, or any string that carries hints
    question: str  # "" where there is no question to go with it
    question_translated: str
    hints: tuple = ()  # ((term, translation), ...)


def wants_context(text: str, words: int) -> bool:
    """Whether an option goes with its question, for a translator whose option_context is `words`: it has at most
    that many words and something to translate (an option the stage copies is never sent)."""
    return 0 < len(text.split()) <= words and not protect.is_untranslatable(text)


def encode(text: str, question: str = "", question_translated: str = "", hints=()) -> str:
    """One string for the stage; without hints it is the same string as before hints existed (same cache key)."""
    fields = [text, question, question_translated] + ([[list(h) for h in hints]] if hints else [])
    return _MARK + json.dumps(fields, ensure_ascii=False)


def sent_as(text: str, hints=(), question: str = "", question_translated: str = "") -> str:
    """What the stage sends for `text`: the text itself, or a unit when it carries hints or its question."""
    return encode(text, question, question_translated, hints) if hints or question else text


def decode(text: str) -> Unit | None:
    """The unit `text` encodes, or None for a plain string."""
    if not text.startswith(_MARK):
        return None
    fields = json.loads(text[len(_MARK):])
    hints = tuple(tuple(h) for h in fields[3]) if len(fields) > 3 else ()
    return Unit(fields[0], fields[1], fields[2], hints)


def text_of(text: str) -> str:
    """What is translated: the option of a unit, the string itself otherwise (what counts toward sizes)."""
    unit = decode(text)
    return unit.text if unit else text
