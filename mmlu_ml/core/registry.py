"""Backends by name: each kind keeps a plain dict of lazy imports (translate/translators, evaluate/models);
this loads one, so an unknown name or a missing optional package fails the same way for both kinds."""

from __future__ import annotations

import importlib

from .errors import MmluMlError


def load(table: dict[str, str], name: str, what: str):
    """The class registered under `name`; an unknown name fails with the valid ones."""
    if name not in table:
        raise MmluMlError(f"unknown {what} {name!r}; valid: {', '.join(table)}")
    module, _, cls = table[name].partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise MmluMlError(f"{what} {name!r} needs a package that is not installed ({exc.name}); "
                          "pip install 'mmlu-ml[all]'") from None
