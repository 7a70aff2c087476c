"""Backends by name, in plain dicts of lazy imports: adding one is one file and one line here.

Translators implement `mmlu_ml.translate.Translator`; models implement `mmlu_ml.evaluate.Model`.
"""

from __future__ import annotations

import importlib

from ..errors import MmluMlError

TRANSLATORS = {
    "azure": "mmlu_ml.backends.azure_translator:AzureTranslator",
    "openai": "mmlu_ml.backends.openai_translator:OpenAITranslator",
    "local": "mmlu_ml.backends.local_translator:LocalTranslator",
    "bergamot": "mmlu_ml.backends.bergamot_translator:BergamotTranslator",
    "identity": "mmlu_ml.backends.identity_translator:IdentityTranslator",
}

MODELS = {
    "llamacpp": "mmlu_ml.backends.llamacpp_model:LlamaCppModel",
    "openai": "mmlu_ml.backends.openai_model:OpenAIModel",
    "hf": "mmlu_ml.backends.hf_model:HFModel",
}


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
