"""Test-only models that keep the Model contract (mmlu_ml.evaluate.Model) and whose right answers are known.

Registered for a test with `monkeypatch.setitem(mmlu_ml.evaluate.models.MODELS, "oracle", "support.models:OracleModel")`, so they go
through the same loading, caching and resuming as real backends. Each records what it was asked in `asked`
(class-level, reset by `reset()`), which tests use to prove a question is never scored twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Sequence

from mmlu_ml.evaluate.models.base import Model


class Interrupted(BaseException):
    """Stands in for Ctrl-C / a killed process (not an Exception, so nothing catches it on the way)."""


class _Base(Model):
    asked: list[str] = []
    prefixes: list[str] = []
    answer_word = "Answer"

    def __init__(self, spec: str, cache_dir: Path, **options):
        self.spec = spec
        self.options = options

    @classmethod
    def reset(cls):
        cls.asked = []
        cls.prefixes = []

    def fingerprint(self) -> dict:
        return {"backend": type(self).__name__, "spec": self.spec}

    def _record(self, text: str) -> None:
        type(self).asked.append(text)

    def letter_logprobs(self, prefix, suffixes, letters):  # each test model answers the way it is named for
        raise NotImplementedError(type(self).__name__)

    def generate(self, prompts, max_tokens):
        raise NotImplementedError(type(self).__name__)


class _KnowsQuestions(_Base):
    """Reads {question text: value} from the JSON file named by the spec, and finds the question in a prompt."""

    def __init__(self, spec: str, cache_dir: Path, **options):
        super().__init__(spec, cache_dir, **options)
        self.table = json.loads(Path(spec).read_text(encoding="utf-8"))

    def fingerprint(self) -> dict:
        return {"backend": type(self).__name__, "table": hashlib.sha256(Path(self.spec).read_bytes()).hexdigest()}

    def lookup(self, text: str) -> str:
        # the question of a prompt is the last one in it (shots come first); texts never contain each other
        found = [(text.rfind(q), q) for q in self.table if q in text]
        return self.table[max(found)[1]]


class OracleModel(_KnowsQuestions):
    """Spec: JSON {question text: right letter}. Puts nearly all probability on the right letter."""

    name = "oracle"

    def letter_logprobs(self, prefix: str, suffixes: list[str], letters: Sequence[str]):
        type(self).prefixes.append(prefix)
        out = []
        for suffix in suffixes:
            self._record(suffix)
            right = self.lookup(suffix)
            out.append({letter: (-0.01 if letter.strip() == right else -6.0) for letter in letters})
        return out

    def generate(self, prompts: list[str], max_tokens: int):
        for p in prompts:
            self._record(p)
        return [f"Let me think.\n{self.answer_word}: {self.lookup(p)}" for p in prompts]


class InterruptingOracle(OracleModel):
    """An oracle killed at the start of its call number `stop_after + 1` (class attribute, set by the test)."""

    name = "oracle"
    stop_after = 1
    calls = 0

    def fingerprint(self) -> dict:
        return {**super().fingerprint(), "backend": "OracleModel"}  # the same model as the oracle, so it resumes

    def letter_logprobs(self, prefix, suffixes, letters):
        type(self).calls += 1
        if type(self).calls > type(self).stop_after:
            raise Interrupted()
        return super().letter_logprobs(prefix, suffixes, letters)


class HashModel(_Base):
    """Deterministic but question-dependent letter scores (a sha of the prompt): varied, reproducible answers."""

    name = "hash"

    def letter_logprobs(self, prefix, suffixes, letters):
        out = []
        for suffix in suffixes:
            self._record(suffix)
            digest = hashlib.sha256((prefix + suffix).encode()).digest()
            out.append({letter: -float(digest[i]) / 64 for i, letter in enumerate(letters)})
        return out

    def generate(self, prompts, max_tokens):
        raise NotImplementedError


class ConstantModel(_Base):
    """Spec: one letter. Always prefers it, whatever it is asked."""

    name = "constant"

    def letter_logprobs(self, prefix, suffixes, letters):
        for s in suffixes:
            self._record(s)
        return [{letter: (-0.1 if letter.strip() == self.spec else -3.0) for letter in letters} for _ in suffixes]

    def generate(self, prompts, max_tokens):
        for p in prompts:
            self._record(p)
        return [f"Answer: {self.spec}" for _ in prompts]


class ScriptedModel(_KnowsQuestions):
    """Spec: JSON {question text: the exact text to generate}. Scores nothing by log-probability."""

    name = "scripted"

    def letter_logprobs(self, prefix, suffixes, letters):
        raise NotImplementedError("scripted model only generates")

    def generate(self, prompts: list[str], max_tokens: int):
        for p in prompts:
            self._record(p)
        return [self.lookup(p) for p in prompts]


class FlakyModel(_KnowsQuestions):
    """Spec: JSON {question text: letter or "ERROR"}; "ERROR" items come back as an exception in their slot."""

    name = "flaky"

    def letter_logprobs(self, prefix, suffixes, letters):
        out = []
        for suffix in suffixes:
            self._record(suffix)
            value = self.lookup(suffix)
            out.append(RuntimeError("server said 503 after 3 tries") if value == "ERROR"
                       else {letter: (-0.01 if letter.strip() == value else -6.0) for letter in letters})
        return out

    def generate(self, prompts, max_tokens):
        raise NotImplementedError


class SlowModel(HashModel):
    """Spec: seconds per question. A HashModel that takes its time, so two runs overlap (tests of shared folders)."""

    name = "slow"

    def letter_logprobs(self, prefix, suffixes, letters):
        time.sleep(float(self.spec) * len(suffixes))
        return super().letter_logprobs(prefix, suffixes, letters)
