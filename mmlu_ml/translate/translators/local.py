"""`local`: the LLM translator in-process on a GGUF model through llama-cpp-python (the embedded default).

One string per prompt: a small model keeps ids straight no better than it keeps a JSON object straight, and
single strings let the few-shot turns (a shared prefix, kept in llama.cpp's KV cache between calls) do the
work. The strings of a call are generated side by side, MMLU_ML_LLAMA_STREAMS (4) at a time, each in a KV
stream of its own (mmlu_ml.llama.generate): each string's attempts are a coroutine, so one string's second
attempt starts as soon as its first is judged. The tokens are those of one string at a time. Greedy decoding, the model's own chat template, an output cap proportional to the input, and a guard
that stops a repetition loop as soon as it starts. Protected spans (formulas, code, blanks) reach the model
as placeholders and are put back exactly; a reply that loses one gives way to an attempt on the text as it
is. A translation with visible defects (translate/llm/prompt.py's defects: a formula or question mark lost, answer words,
far too short or long, a loop, English kept) gets one more attempt with the task restated beside the text;
the attempt with fewer defects is kept, a loop cut back to the text before it. A text of several lines or
sentences that fails both ways goes again one piece at a time (mmlu_ml.translate.segments; lines of code stay as they
are), which is kept if it shows fewer defects. What is still wrong is left for the checks to flag, not
hidden. Into Chinese, options of up to CONTEXT_WORDS words come from the stage with their question
(mmlu_ml.translate.in_context): the question and its translation go in as one more exchange before the option.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from ...llama import assets
from ...llama.generate import Generator, Request
from ...llama.load import chat_formatter, load_llama, machine, runtime, streams_from_env
from ...core import examples as llm_examples, protect
from ...core.languages import Language
from .base import Translator
from ...core.text import keep_as_is
from ..llm.prompt import (PROMPT_VERSION, clean_single, defects, insisting, instructions, single_messages,
                          token_budget, trim_loop)
from .. import in_context, segments

DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
N_CTX = 8192
RETRY_REPEAT_PENALTY = 1.2
PLACEHOLDERS = "F1"  # protected spans sent as [F1], [F2]...: a change here changes outputs, so cache keys
LOOP_GUARD = "g2"  # _repeating_tail's rules: bump when they change (they change outputs, so cache keys)
CONTEXT_WORDS = 3  # options this short are ambiguous alone ("Mercury", "Shang"): sent after their question
# Where that was measured to help (BENCHMARKS.md): Chinese, on dev, val and held out. In French and German it
# helped on one split and hurt on the other, and fixed as much as it broke; Bengali and Telugu: within noise.
CONTEXT_SCRIPTS = frozenset({"Hans", "Hant"})


def _repeating_tail(tokens, min_total: int = 12, window: int = 64, min_distinct: int = 10) -> bool:
    """True when the generated tokens end in >= 4 copies of a unit (>= 8 for 1-2 token units), or when their
    last `window` tokens hold fewer than `min_distinct` different ones (a loop whose copies vary a little)."""
    n = len(tokens)
    if n >= window and len(set(tokens[n - window:].tolist())) < min_distinct:
        return True
    for period in range(1, 25):
        copies = 8 if period <= 2 else 4
        if n < period * copies or period * copies < min_total:
            continue
        tail = tokens[n - period:]
        if all(np.array_equal(tokens[n - (k + 1) * period:n - k * period], tail) for k in range(1, copies)):
            return True
    return False


class LocalTranslator(Translator):
    name = "local"
    protects = True  # protect's spans come back unchanged: each text's spans are in its cache key
    max_items = 16  # strings per call: generated side by side, `streams` at a time
    max_chars = 8_000
    glossary = True  # hints for the languages takes_hints names
    split_failures = True  # a text of several pieces that fails whole goes again piece by piece (bench: off)

    def __init__(self, model: str | None, cache_dir: Path, chat_template: str | None = None,
                 threads: int | None = None, concurrency: int = 1):
        self.model_name = model or DEFAULT_MODEL
        self.cache_dir = Path(cache_dir)
        known = assets.ASSETS.get(self.model_name)
        # A known name has a known sha256 (checked when its parts are joined): nothing to fetch until the model
        # is needed, so a dry run costs nothing. A path given by the user must exist and is hashed once here.
        self.path: Path | None = None
        if known:
            self.sha256 = known.sha256
        else:
            self.path = assets.resolve(self.model_name, cache_dir)
            self.sha256 = assets.sha256_of(self.path)
        self.chat_template = chat_template
        self.threads = threads
        self.streams = streams_from_env()
        self._llm: Any = None  # a llama_cpp.Llama, loaded on first use
        self._lock = threading.Lock()

    def fingerprint(self) -> dict:
        llama_cpp = runtime()
        return {"backend": "local", "model": self.model_name, "sha256": self.sha256,
                "runtime": f"llama-cpp-python {llama_cpp.__version__}", "prompt": PROMPT_VERSION,
                "decoding": {"temperature": 0, "n_ctx": N_CTX, "loop_guard": LOOP_GUARD,
                             "loop_retry_repeat_penalty": RETRY_REPEAT_PENALTY,
                             "placeholders": PLACEHOLDERS, "protect": protect.VERSION, "segments": segments.VERSION,
                             "option_context": {"words": CONTEXT_WORDS, "scripts": sorted(CONTEXT_SCRIPTS)}},
                "template": "override" if self.chat_template else "model"}

    def machine(self) -> dict:
        """The build and CPU this run's translations come from (llama.load.machine): not in the cache key."""
        return machine()

    def _load(self):
        if self._llm is None:
            if self.path is None:
                self.path = assets.resolve(self.model_name, self.cache_dir)
            self._llm = load_llama(self.path, N_CTX, self.threads, streams=self.streams,
                                   swa_full=True)  # a sliding-window model (Gemma 3) is cut back only with a full cache
            self._generator = Generator(self._llm, self.streams)
            self._format, self._stops = chat_formatter(self._llm, self.chat_template), []
            if self._format is not None:
                eos = self._llm.detokenize([self._llm.token_eos()], special=True).decode("utf-8", "ignore")
                self._stops = [s for s in {eos, self._turn_end()} if s]
        return self._llm

    def _turn_end(self) -> str:
        """What the template writes after an assistant turn (`<|im_end|>`, `<end_of_turn>`): a stop string, for
        a template that is not the model's own and so does not end in its end-of-generation token."""
        probe = "\u2063reply\u2063"
        rendered = self._format(messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                          {"role": "assistant", "content": probe}]).prompt
        return rendered.split(probe, 1)[1].strip("\n").split("\n")[0].strip() if probe in rendered else ""

    def _prompt(self, text: str, source: Language, target: Language, insist: bool = False,
                context: tuple[tuple[str, str], ...] = ()) -> tuple[str, list[str]]:
        """The rendered prompt and its stop strings: the chat template, or a plain completion for base models."""
        if self._format is not None:
            return self._format(messages=single_messages(text, source, target, insist, context)).prompt, self._stops
        src, tgt = source.name, target.name
        lines = [instructions(source, target, batch=False), ""]
        pairs = list(llm_examples.pairs(target.code)) if source.code == "en" else []
        for english, translated in pairs + list(context):
            lines += [f"{src}: {english}", f"{tgt}: {translated}", ""]
        lines += [f"{src}: {insisting(text, target) if insist else text}", f"{tgt}:"]
        return "\n".join(lines), [f"\n{src}:"] + ([] if "\n\n" in text else ["\n\n"])

    def _generate(self, llm, prompt: str, stop: list[str], budget: int, repeat_penalty: float):
        """A coroutine step: the request for `prompt`, yielded to the Generator, and the text it sends back."""
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        budget = max(8, min(budget, N_CTX - len(tokens) - 1))
        return (yield Request(tokens, budget, stop, repeat_penalty, _repeating_tail))

    def _attempt(self, llm, text: str, source: Language, target: Language, insist: bool = False,
                 penalty: float = 1.0, context: tuple[tuple[str, str], ...] = ()):
        prompt, stop = self._prompt(text, source, target, insist, context)
        budget = token_budget(len(llm.tokenize(text.encode("utf-8"), add_bos=False)), target)
        return clean_single((yield from self._generate(llm, prompt, stop, budget, penalty)), text)

    def _masked_attempt(self, llm, text: str, source: Language, target: Language, hints=()):
        """The text sent with its protected spans as [F1], [F2], ... (protect.to_placeholders), put back
        after; None when it has no span or the model dropped or repeated a placeholder."""
        masked = protect.to_placeholders(text)
        if masked is None:
            return None
        reply = yield from self._attempt(llm, masked[0], source, target, context=hints)
        return protect.from_placeholders(reply, masked[1])

    def _translate_one(self, text: str, source: Language, target: Language, hints=(), whole: bool = True):
        """One string's translation: a coroutine that yields generation requests (run by llama/generate.py).
        `hints`: glossary (term, translation) pairs, sent as exchanges before the text in every attempt.
        `whole`: a text of several lines or sentences that fails twice goes again piece by piece."""
        if keep_as_is(text) or not whole and protect.is_untranslatable(text):
            return text
        llm = self._load()
        # Formulas, code and blanks go as placeholders: the model cannot rewrite or solve what it cannot see.
        # Where it drops one, the text goes as it is.
        first = yield from self._masked_attempt(llm, text, source, target, hints)
        if first is None:
            first = yield from self._attempt(llm, text, source, target, context=hints)
        wrong = defects(first, text, target) if first.strip() else ["empty"]
        if not wrong:
            return first
        # One more attempt, the task restated beside the text (and a repetition penalty after a loop); the
        # attempt with fewer visible defects wins, the first on a tie; what still loops is cut back.
        penalty = RETRY_REPEAT_PENALTY if "loop" in wrong else 1.0
        second = yield from self._attempt(llm, text, source, target, insist=True, penalty=penalty, context=hints)
        wrong2 = defects(second, text, target) if second.strip() else ["empty"]
        result, fewest = (second, wrong2) if len(wrong2) < len(wrong) else (first, wrong)
        pieces = segments.split(text) if whole and self.split_failures else []
        if len(pieces) > 1:
            # Whole, it failed twice (a passage summarised, answered, its formulas dropped): one line or sentence
            # at a time, each with its own attempts, is kept if it shows fewer defects.
            done = []
            for piece in pieces:
                own = tuple(h for h in hints if h[0].lower() in piece.text.lower())
                out = piece.text if piece.kept else (
                    yield from self._translate_one(piece.text, source, target, own, whole=False))
                done.append((out if out is not None else piece.text, piece.sep))
            joined = segments.join(done, target.script)
            if len(defects(joined, text, target)) < len(fewest):
                result = joined
        result = trim_loop(result, text)
        return result if result.strip() else None

    def option_context(self, target: Language) -> int:
        """Options of up to this many words go to `target` with their question (0: none do)."""
        return CONTEXT_WORDS if target.script in CONTEXT_SCRIPTS else 0

    def takes_hints(self, target: Language) -> bool:
        """Glossary hints (mmlu_ml.translate.glossary) come inside the strings, as in_context units."""
        return True

    def _translate_unit(self, unit: in_context.Unit, source: Language, target: Language):
        """A unit's text, after its hints' exchanges and, for an option, its question's; where the option's
        reply shows a visible defect, or it holds a protected span, it is translated without the question."""
        text, hints = unit.text, unit.hints
        if not unit.question or keep_as_is(text) or protect.spans(text):
            return (yield from self._translate_one(text, source, target, hints))
        reply = yield from self._attempt(self._load(), text, source, target,
                                         context=hints + ((unit.question, unit.question_translated),))
        if reply.strip() and not defects(reply, text, target):
            return reply
        return (yield from self._translate_one(text, source, target, hints))

    def translate(self, texts: list[str], source: Language, target: Language) -> list[str | None]:
        jobs = []
        for text in texts:
            unit = in_context.decode(text)
            jobs.append(self._translate_unit(unit, source, target) if unit
                        else self._translate_one(text, source, target))
        with self._lock:  # one llama context: calls are serial
            self._load()
            results = self._generator.run(jobs)
        for r in results:
            if isinstance(r, Exception) and not isinstance(r, (ValueError, RuntimeError)):
                raise r  # a bug, not a text the model could not take
        return [None if isinstance(r, Exception) else r for r in results]
