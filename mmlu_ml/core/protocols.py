"""Prompt formats (protocols) and answer parsing.

A protocol turns one subject's shots and one question into text, in two parts so a backend can keep the
shared part in its KV cache: `prefix(...)` (instruction + shots, the same for every question of a subject)
and `suffix(q)` (the question, ending where the model's answer starts). Every setting that shapes the text or
the scoring is in `Protocol.settings()`, which is recorded with every result and enters every cache key.

  gpt4   the GPT-4 report's: the Gopher instruction translated, 3 translated dev shots, `A) ...` options,
         `Answer:` and the letters kept in English, prediction = the letter with the highest next-token
         log-probability.
  mmlu5  lm-evaluation-harness's `mmlu` task, character for character: English description line, 5 dev shots,
         `A. ...` options, `Answer:`, log-probabilities of " A".." D".
  cot0   zero-shot chain of thought: the COT instruction in the target language, the question, and a last line
         asking for `<answer word>: X` in the language's own word; the answer is parsed from generated text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from ..core import templates
from ..core.errors import MmluMlError
from ..core.languages import Language
from ..core.records import LETTERS, Question
from ..core.subjects import pretty

PROMPT_VERSION = 1  # bump whenever any format below changes: it enters config keys and cache keys

# Full-width letters some models write in CJK text; mapped back to A-D by the parser.
FULLWIDTH = ("Ａ", "Ｂ", "Ｃ", "Ｄ")


@dataclass(frozen=True)
class Protocol:
    name: str
    shots: int
    scoring: str  # "logprob": letter log-probabilities; "generate": parse generated text
    option_style: str  # "A) " (GPT-4 report) or "A. " (lm-eval)
    letters: tuple[str, ...] = (" A", " B", " C", " D")  # exact continuations scored after `Answer:`
    max_tokens: int = 0  # generation cap (generate protocols only)
    translated_instruction: bool = True  # the instruction line comes from the translation's instructions.json

    def with_overrides(self, shots: int | None = None, max_tokens: int | None = None) -> "Protocol":
        return replace(self, shots=self.shots if shots is None else shots,
                       max_tokens=self.max_tokens if max_tokens is None or self.scoring != "generate" else max_tokens)

    def settings(self) -> dict:
        """Everything that shapes the prompt or the scoring; recorded with every result."""
        out = {"protocol": self.name, "prompt_version": PROMPT_VERSION, "shots": self.shots, "scoring": self.scoring,
               "options": self.option_style.strip(), "shot_source": "first dev questions of the subject",
               "instruction": "translated" if self.translated_instruction else "English template"}
        if self.scoring == "logprob":
            out["letters"] = list(self.letters)
            out["answer_word"] = "Answer (English)"
        else:
            out["max_tokens"] = self.max_tokens
            out["answer_word"] = "native (languages.yaml)"
            out["parse"] = "last '<answer word>: X' match; native and full-width letters map to A-D"
        return out

    # -- text -----------------------------------------------------------------------------------------------

    def instruction(self, subject: str, language: Language, instructions: dict | None) -> str:
        if self.name == "mmlu5":
            return templates.MMLU5.format(subject=pretty(subject))
        kind = "cot" if self.scoring == "generate" else "gopher"
        template = templates.COT if kind == "cot" else templates.GOPHER
        if language.code == "en":
            return template.format(subject=pretty(subject))
        line = (instructions or {}).get(kind, {}).get(subject)
        if not line:
            raise MmluMlError(f"instructions.json for {language.code} has no {kind!r} line for {subject}; translate it "
                              f"again with `mmlu-ml translate --languages {language.code} --subjects {subject}`")
        return line.strip()

    def block(self, q: Question) -> str:
        """One question and its options, ending with the answer cue."""
        if self.name == "mmlu5":  # lm-eval's doc_to_text: question stripped, choices as they are
            options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(LETTERS, q.choices))
            return f"{q.question.strip()}{options}\nAnswer:"
        options = "".join(f"\n{letter}) {choice.strip()}" for letter, choice in zip(LETTERS, q.choices))
        return f"{q.question.strip()}{options}\nAnswer:"

    def prefix(self, subject: str, language: Language, shots: Sequence[Question], instructions: dict | None) -> str:
        """Instruction and solved shots: the text every question of `subject` shares."""
        if self.scoring == "generate":
            return self.instruction(subject, language, instructions) + "\n\n"
        parts = [self.instruction(subject, language, instructions)]
        parts += [f"{self.block(s)} {s.answer}" for s in shots[: self.shots]]
        return "\n\n".join(parts) + "\n\n"

    def suffix(self, q: Question, language: Language) -> str:
        if self.scoring == "logprob":
            return self.block(q)
        options = "".join(f"\n{letter}) {choice.strip()}" for letter, choice in zip(LETTERS, q.choices))
        return f"{q.question.strip()}\n{options}\n\n{answer_request(language)}\n"


def answer_request(language: Language) -> str:
    """The last line of a cot0 prompt: the format of the final answer, in the language's own word."""
    return f"{language.answer_word}: X  (X = A / B / C / D)"


PROTOCOLS = {
    "gpt4": Protocol("gpt4", shots=3, scoring="logprob", option_style="A) "),
    "mmlu5": Protocol("mmlu5", shots=5, scoring="logprob", option_style="A. ", translated_instruction=False),
    "cot0": Protocol("cot0", shots=0, scoring="generate", option_style="A) ", max_tokens=512),
}


def get(name: str, shots: int | None = None, max_tokens: int | None = None) -> Protocol:
    if name not in PROTOCOLS:
        raise MmluMlError(f"unknown protocol {name!r}; valid: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name].with_overrides(shots, max_tokens)


# -- answer parsing (cot0) ----------------------------------------------------------------------------------

def _letter_map(language: Language) -> dict[str, str]:
    out = {letter: letter for letter in LETTERS}
    out.update({letter.lower(): letter for letter in LETTERS})
    out.update(dict(zip(FULLWIDTH, LETTERS)))
    out.update(dict(zip(language.letters, LETTERS)))
    return out


def _pattern(language: Language) -> re.Pattern:
    words = sorted({language.answer_word, "Answer"}, key=len, reverse=True)
    letters = sorted(_letter_map(language), key=len, reverse=True)
    word = "|".join(map(re.escape, words))
    letter = "|".join(map(re.escape, letters))
    # `**Answer:** (C)`, `Antwort: C`, `答案：Ｃ`, `الإجابة: ب`; the letter must not start a longer word
    return re.compile(rf"(?:{word})\s*\**\s*[:：]\s*\**\s*[\(\[（]?\s*({letter})(?![^\W_])", re.IGNORECASE)


def parse_answer(text: str, language: Language) -> str | None:
    """The LAST `<answer word>: X` in `text`, as A-D; None when there is none (an unparsed answer, which is
    counted apart from a wrong one). Taking the last match matters: models restate the format first."""
    mapping = _letter_map(language)
    matches = _pattern(language).findall(text or "")
    if not matches:
        return None
    found = matches[-1]
    return mapping.get(found) or mapping.get(found.upper()) or mapping.get(found.lower())
