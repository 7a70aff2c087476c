"""What a translator is: the base class every backend in TRANSLATORS derives from.

A backend must say what changes its output (`fingerprint`) and translate a batch (`translate`); everything else
has a default here that suits a service with no limits worth knowing, so a backend overrides only what it has.
Its constructor takes `(model, cache_dir, concurrency=...)` and, as keyword parameters with defaults, the
settings a user may give through `--translator-args key=value,...` (core/settings.py checks them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from ...core.languages import Language


class Translator(ABC):
    name: ClassVar[str]           # the registry name
    max_items: ClassVar[int] = 100        # strings per request the stage may pack
    max_chars: ClassVar[int] = 10_000     # characters per request, as `request_chars` counts them
    protects: ClassVar[bool] = False      # keeps protect's spans: each text's spans go into its cache key
    bills_characters: ClassVar[bool] = False  # priced by the character: the dry run prices it
    glossary: ClassVar[bool] = False      # takes glossary hints (for the languages `takes_hints` names)
    hard_max_chars: ClassVar[bool] = False  # the service refuses one string over max_chars: the stage stops first

    def __init__(self, model: str | None, cache_dir: Path | None, concurrency: int = 1) -> None:
        """What the stage gives every translator (translate.stage.COMMON_TRANSLATOR_ARGS); a translator's own
        settings follow as keyword parameters with defaults."""

    @abstractmethod
    def fingerprint(self) -> dict:
        """Everything that changes the output; it keys the cache."""

    @abstractmethod
    def translate(self, texts: list[str], source: Language, target: Language) -> list[str | None]:
        """One translation per text, None for a text that failed after the backend's own retries."""

    def preflight(self) -> None:
        """Raise MmluMlError when nothing could be sent (a missing key), before anything is written."""

    def request_chars(self, text: str) -> int:
        """What a string costs toward `max_chars` and the bill."""
        return len(text)

    def usage(self) -> dict:
        """{"requests": int, "billed_chars": int}, cumulative for the calling thread; {} when not counted (the
        stage then charges one request and nothing billed per call)."""
        return {}

    def option_context(self, target: Language) -> int:
        """Options of at most this many words are sent with their question and its translation (0: never)."""
        return 0

    def takes_hints(self, target: Language) -> bool:
        """Whether strings with glossary terms go with (term, translation) hints into `target`."""
        return False

    def machine(self) -> dict | None:
        """For a backend whose output depends on the machine (a local model): its build and CPU, recorded in the
        manifest, never in a cache key. None elsewhere."""
        return None
