"""Short answer options translated with their question as context, carried through the stage as one string.

A one-word option is ambiguous on its own: "Shang" became 上海 and "Mercury" 水银 until the model saw the
question they answer (BENCHMARKS.md). A translator whose `option_context(target)` is N > 0 gets each option
of at most N words as a unit: the option, its question and the question's translation, encoded into one string.
So the stage's string machinery (de-duplication, cache keys over the exact text, batches, counts) needs no
second path, and the same option under two questions is two units, two cache rows. Other translators never
see a unit.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from . import protect

_MARK = "\x1eoption-in-context\x1e"  # a control character no MMLU string holds


class Unit(NamedTuple):
    option: str
    question: str
    question_translated: str


def wants_context(text: str, words: int) -> bool:
    """Whether an option goes with its question, for a translator whose option_context is `words`: it has at most
    that many words and something to translate (an option the stage copies is never sent)."""
    return 0 < len(text.split()) <= words and not protect.is_untranslatable(text)


def encode(option: str, question: str, question_translated: str) -> str:
    return _MARK + json.dumps([option, question, question_translated], ensure_ascii=False)


def decode(text: str) -> Unit | None:
    """The unit `text` encodes, or None for a plain string."""
    if not text.startswith(_MARK):
        return None
    return Unit(*json.loads(text[len(_MARK):]))


def text_of(text: str) -> str:
    """What is translated: the option of a unit, the string itself otherwise (what counts toward sizes)."""
    unit = decode(text)
    return unit.option if unit else text
