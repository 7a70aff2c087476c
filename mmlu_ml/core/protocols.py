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

Each is one entry of PROTOCOLS whose fields say all the code needs (scoring, option style, instruction kind...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from . import templates
from .errors import MmluMlError
from .languages import Language
from .records import LETTERS, Question
from .subjects import pretty

PROMPT_VERSION = 1  # bump whenever any format below changes: it enters config keys and cache keys

# Full-width letters some models write in CJK text; mapped back to A-D by the parser.
FULLWIDTH = ("Ａ", "Ｂ", "Ｃ", "Ｄ")


SCORINGS = ("logprob", "generate")


@dataclass(frozen=True)
class Protocol:
    """One prompt format, all data: the code branches on these fields, never on `name`."""
    name: str
    shots: int
    scoring: str  # "logprob": letter log-probabilities; "generate": parse generated text (no shots shown)
    option_style: str  # how option A is written, B-D alike: "A) " (GPT-4 report) or "A. " (lm-eval)
    instruction_kind: str  # the first line: a key of templates.INSTRUCTIONS
    translated_instruction: bool = True  # that line comes from the translation's instructions.json
    strip_choices: bool = True  # False keeps a choice's own edge whitespace, as lm-eval does
    letters: tuple[str, ...] = (" A", " B", " C", " D")  # exact continuations scored after `Answer:`
    max_tokens: int = 0  # generation cap (generate protocols only)
    title: str = ""  # what the report's chart calls it

    def __post_init__(self):
        kinds = templates.KINDS if self.translated_instruction else templates.INSTRUCTIONS
        if self.scoring not in SCORINGS or self.instruction_kind not in kinds or not self.option_style.startswith("A"):
            raise MmluMlError(f"protocol {self.name!r}: scoring one of {SCORINGS}, an instruction kind of "
                              f"{sorted(kinds)}, an option style starting with 'A'")

    def with_overrides(self, shots: int | None = None, max_tokens: int | None = None) -> "Protocol":
        return replace(self, shots=self.shots if shots is None else shots,
                       max_tokens=self.max_tokens if max_tokens is None or self.scoring != "generate" else max_tokens)

    def settings(self) -> dict:
        """Everything that shapes the prompt or the scoring; recorded with every result. Its shape is part of
        every config key and cache key: the fields added since (instruction_kind, strip_choices) stay out, as the
        name already tells them apart."""
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
        kind = self.instruction_kind
        if not self.translated_instruction or language.code == "en":
            return templates.INSTRUCTIONS[kind].format(subject=pretty(subject))
        line = (instructions or {}).get(kind, {}).get(subject)
        if not line:
            raise MmluMlError(f"instructions.json for {language.code} has no {kind!r} line for {subject}; translate it "
                              f"again with `mmlu-ml translate --languages {language.code} --subjects {subject}`")
        return line.strip()

    def options(self, q: Question) -> str:
        """The options, each on its own line after a newline."""
        mark = self.option_style[1:]
        return "".join(f"\n{letter}{mark}{choice.strip() if self.strip_choices else choice}"
                       for letter, choice in zip(LETTERS, q.choices))

    def block(self, q: Question) -> str:
        """One question and its options, ending with the answer cue."""
        return f"{q.question.strip()}{self.options(q)}\nAnswer:"

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
        return f"{q.question.strip()}\n{self.options(q)}\n\n{answer_request(language)}\n"


def answer_request(language: Language) -> str:
    """The last line of a generate prompt: the format of the final answer, in the language's own word."""
    return f"{language.answer_word}: X  (X = A / B / C / D)"


# The registry: adding a protocol is one entry here (and one test).
PROTOCOLS = {p.name: p for p in (
    Protocol("gpt4", shots=3, scoring="logprob", option_style="A) ", instruction_kind="gopher",
             title="GPT-4 report's protocol"),
    Protocol("mmlu5", shots=5, scoring="logprob", option_style="A. ", instruction_kind="mmlu5",
             translated_instruction=False, strip_choices=False, title="lm-eval's 5-shot English prompt"),
    Protocol("cot0", shots=0, scoring="generate", option_style="A) ", instruction_kind="cot", max_tokens=512,
             title="zero-shot chain of thought"),
)}


def get(name: str, shots: int | None = None, max_tokens: int | None = None) -> Protocol:
    if name not in PROTOCOLS:
        raise MmluMlError(f"unknown protocol {name!r}; valid: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name].with_overrides(shots, max_tokens)


# -- answer parsing (generate protocols) ---------------------------------------------------------------------

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
