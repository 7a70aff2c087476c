"""The translation-sensitivity figures pooled over languages (BENCHMARKS.md, "Translation sensitivity").

translators.csv gives each language's paired difference; pooling needs the question-level pairs, so this reads
the predictions the evaluate stage wrote and runs the same Newcombe interval over all languages' pairs at once.
  .venv/bin/python bench/pooled_sensitivity.py results/sensitivity de,fr,zh [--a local --b okapi]
"""
import argparse
from pathlib import Path

from mmlu_ml.core.records import read_jsonl
from mmlu_ml.core.stats import paired_difference
from mmlu_ml.evaluate.scores import latest_rows


def scored(path: Path, translator: str | None = None) -> dict[str, bool]:
    """id -> correct, from the translator's latest configuration in the file, errors left out as evaluate does."""
    keys = [r["config_key"] for r in read_jsonl(path) if translator in (None, r.get("translator"))]
    if not keys:
        raise SystemExit(f"{path}: no predictions for translator {translator!r}; evaluate it first")
    return {i: r["correct"] for i, r in latest_rows(path, keys[-1]).items() if not r.get("error")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out"), ap.add_argument("languages")
    ap.add_argument("--a", default="local"), ap.add_argument("--b", default="okapi")
    ap.add_argument("--protocol", default="gpt4")
    args = ap.parse_args()
    for folder in sorted(Path(args.out, "predictions").glob(f"*/{args.protocol}")):
        pooled = {f"{args.a} - {args.b}": [], f"{args.b} - en": [], f"{args.a} - en": []}
        english = scored(folder / "en.jsonl")
        for lang in args.languages.split(","):
            a, b = scored(folder / f"{lang}.jsonl", args.a), scored(folder / f"{lang}.jsonl", args.b)
            ids = sorted(set(a) & set(b) & set(english))  # every comparison on the ids all three hold
            print(f"{folder.parent.name} {lang}: n={len(ids)}, only {args.a} right {sum(a[i] and not b[i] for i in ids)}, "
                  f"only {args.b} right {sum(b[i] and not a[i] for i in ids)}")
            first, second, third = pooled.values()
            first += [(a[i], b[i]) for i in ids]
            second += [(b[i], english[i]) for i in ids]
            third += [(a[i], english[i]) for i in ids]
        for name, pairs in pooled.items():
            n, d, lo, hi = paired_difference(pairs)
            print(f"{folder.parent.name} pooled {name}: n={n} {100 * d:+.1f} pts [{100 * lo:+.1f}, {100 * hi:+.1f}]")


if __name__ == "__main__":
    main()
