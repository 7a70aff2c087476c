"""Stage 1, translate: `stage.py` runs it (plan, cache, send, check, write translations/<name>/<lang>/).
Beside it: plan, protection of spans, checks, pacing, glossary, segments; `translators/` holds the backends,
`llm/` the prompts, examples and reply parsing shared by the translators that are language models."""
