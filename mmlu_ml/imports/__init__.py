"""The import stage: `stage.py` reads a translated MMLU made elsewhere (MMMLU, Global-MMLU, Okapi, our own
layout), lines it up with the English questions (`align.py`), runs the translation checks (core/checks.py) on it and
writes it as translations/<name>/<lang>/<split>.jsonl, so evaluate and report use it as their own.
`formats/` holds one reader per layout."""
