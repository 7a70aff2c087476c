"""Stage 1, translate: `stage.py` runs it (plan, cache, send, check, write translations/<name>/<lang>/).
Beside it: plan, pacing, glossary, segments; `translators/` holds the backends, `llm/` the prompts and reply
parsing shared by the translators that are language models. Protection of spans, the checks and the few-shot
examples are in core/, since evaluate and import use them too."""
