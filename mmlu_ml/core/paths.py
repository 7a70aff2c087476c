"""Where stages read and write. Names that come from users or data (models, translators, languages) are
made safe here, once, so no path can leave `results/` or `cache/`."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import MmluMlError

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def component(name: str, what: str = "name") -> str:
    """One path component from `name`: separators and odd characters become `_`; `.`/`..` are refused."""
    safe = _UNSAFE.sub("_", str(name)).strip("_")
    if not safe or set(safe) <= {"."}:
        raise MmluMlError(f"{what} {name!r} cannot be used as a file name; choose one with letters or digits")
    return safe[:120]


def translations_dir(out: Path, translator: str, language: str) -> Path:
    return Path(out) / "translations" / component(translator, "translator") / component(language, "language")


def predictions_file(out: Path, model: str, protocol: str, language: str) -> Path:
    return (Path(out) / "predictions" / component(model, "model") / component(protocol, "protocol")
            / f"{component(language, 'language')}.jsonl")
