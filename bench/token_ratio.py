"""Tokens a language costs the evaluated model, against English (BENCHMARKS.md, "Published board").

    .venv/bin/python bench/token_ratio.py [results/published]

An evaluation reads tokens, so a language that the tokenizer splits finely is slower to score, and slower to
translate (the translator writes those tokens). Two readings, both with the 1.5B model's tokenizer:
- examples: the translator's in-context examples (our own translations of 8 exam strings), for every language
  that has them: a forecast before anything is translated;
- board: the published test questions and options (translations/local/<lang>/test.jsonl) against the same
  questions in English: what the board actually costs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

from mmlu_ml.core.options import Selection
from mmlu_ml.llama.assets import resolve
from mmlu_ml.core.examples import ENGLISH, TRANSLATED

MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


def _text(row: dict) -> str:
    return "\n".join([row["question"], *row["choices"]])


def table(out: Path, count) -> pd.DataFrame:
    """Per language: translated/English token ratios; `count` gives a text's token count."""
    english = sum(map(count, ENGLISH))
    rows = {code: {"examples": sum(map(count, texts)) / english} for code, texts in TRANSLATED.items()}
    source = {q.id: q for q in Selection(limit=5).load()[1]}  # MMLU_ML_SOURCE, as make sets it
    for path in sorted((out / "translations" / "local").glob("*/test.jsonl")):
        done = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        ours = sum(count(_text(r)) for r in done)
        theirs = sum(count(_text(vars(source[r["id"]]))) for r in done)
        rows.setdefault(path.parent.name, {}).update({"board": ours / theirs, "board questions": len(done)})
    df = pd.DataFrame.from_dict(rows, orient="index").sort_values("examples")
    if "board questions" in df:
        df["board questions"] = df["board questions"].astype("Int64")
    return df


def main(argv: list[str]) -> int:
    from mmlu_ml.llama.load import runtime
    Llama = runtime().Llama

    out = Path(argv[0] if argv else "results/published")
    model = resolve(MODEL, os.environ.get("MMLU_ML_CACHE_DIR", "cache"))
    llm = Llama(str(model), vocab_only=True, verbose=False)
    print(table(out, lambda s: len(llm.tokenize(s.encode("utf-8"), add_bos=False))).round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
