"""Backend settings from the command line: `--model-args` / `--translator-args key=value,...` (lm-evaluation-
harness's --model_args, inspect's -M). A backend's settings are the keyword parameters of its constructor past
the ones every backend of its kind takes; a key it does not take is a one-line error naming the ones it does."""

from __future__ import annotations

import inspect
from typing import Iterable

from .errors import MmluMlError

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def accepted(cls, common: Iterable[str]) -> dict[str, inspect.Parameter]:
    """name -> parameter of the settings `cls` takes (its constructor's, less `common` and *args/**kwargs)."""
    skip = {"self", *common}
    return {p.name: p for p in inspect.signature(cls.__init__).parameters.values()
            if p.name not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _convert(raw: str, param: inspect.Parameter, flag: str):
    kind = type(param.default) if param.default not in (None, inspect.Parameter.empty) else None
    annotation = str(param.annotation)
    if kind is None:  # None by default: the annotation says what it holds ("int | None", "float | None")
        kind = next((t for t in (bool, int, float) if t.__name__ in annotation), str)
    if kind is bool:
        if raw.lower() not in _TRUE | _FALSE:
            raise MmluMlError(f"{flag} {param.name}={raw!r}: give true or false")
        return raw.lower() in _TRUE
    try:
        return kind(raw)
    except ValueError:
        raise MmluMlError(f"{flag} {param.name}={raw!r} is not a{'n' if kind is int else ''} "
                          f"{ {int: 'integer', float: 'number'}.get(kind, kind.__name__) }") from None


def parse(text: str | None, cls, common: Iterable[str], flag: str, backend: str) -> dict:
    """The settings `text` gives for `cls`, converted to the types its constructor's defaults have."""
    if not text:
        return {}
    valid = accepted(cls, common)
    out = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise MmluMlError(f"{flag}: {item!r} is not key=value (e.g. {flag} {next(iter(valid), 'key')}=...)")
        if key not in valid:
            names = ", ".join(sorted(valid)) or "none"
            raise MmluMlError(f"{flag}: the {backend} backend takes no setting {key!r}; it takes: {names}")
        out[key] = _convert(raw.strip(), valid[key], flag)
    return out
