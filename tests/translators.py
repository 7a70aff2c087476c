"""A test-only translator that keeps the Translator contract (mmlu_ml.translate.Translator).

Registered for a test with `monkeypatch.setitem(backends.TRANSLATORS, "context", "translators:ContextTranslator")`.
"""

from __future__ import annotations

from pathlib import Path


class ContextTranslator:
    """Writes each string with the question the stage said it belongs to: `text <question>`, or `text <->`."""

    name = "context"
    max_items = 3
    max_chars = 10_000

    def __init__(self, model, cache_dir: Path, **options):
        self.question_of: dict[str, str] = {}

    def fingerprint(self) -> dict:
        return {"backend": "context"}

    def set_context(self, question_of: dict[str, str]) -> None:
        self.question_of = dict(question_of)

    def translate(self, texts, source, target):
        return [f"{t} <{self.question_of.get(t, '-')}>" for t in texts]
