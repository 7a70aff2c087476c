"""The translation-sensitivity figures pooled over languages (BENCHMARKS.md, "Translation sensitivity").

translators.csv gives each language's paired difference; pooling needs the question-level records. The results
folder of bench/translator_sensitivity.sh holds Okapi's CC BY-NC text and stays out of the repository, so its
per-question records (ids, predicted letters, right or wrong: no text) are exported to a committed CSV, and the
pooled figures are computed from that file alone:
  .venv/bin/python bench/pooled_sensitivity.py --export results/sensitivity de,fr,zh   (writes RECORDS)
  .venv/bin/python bench/pooled_sensitivity.py                                         (reads RECORDS)
A question id is one cluster: in three languages it is three pairs that share its English answer, so the
interval is a bootstrap over question ids (core/stats.cluster_bootstrap, seeded), not a Newcombe interval over
pairs taken as independent (printed beside it, to show what clustering changes).
"""
import argparse
from pathlib import Path

import pandas as pd

from mmlu_ml.core.records import read_jsonl
from mmlu_ml.core.stats import cluster_bootstrap, paired_difference
from mmlu_ml.core.artifacts import latest_rows

RECORDS = Path(__file__).parent / "results" / "sensitivity_records.csv"
COLUMNS = ["model", "language", "translator", "id", "predicted", "correct"]


def scored(path: Path, translator: str | None = None) -> dict[str, dict]:
    """id -> row, from the translator's latest configuration in the file, errors left out as evaluate does."""
    keys = [r["config_key"] for r in read_jsonl(path) if translator in (None, r.get("translator"))]
    if not keys:
        raise SystemExit(f"{path}: no predictions for translator {translator!r}; evaluate it first")
    return {i: r for i, r in latest_rows(path, keys[-1]).items() if not r.get("error")}


def export(out: Path, languages: list[str], translators: list[str], protocol: str) -> pd.DataFrame:
    rows = []
    for folder in sorted(Path(out, "predictions").glob(f"*/{protocol}")):
        for lang in ["en", *languages]:
            for name in ([None] if lang == "en" else translators):
                for i, r in scored(folder / f"{lang}.jsonl", name).items():
                    rows.append([folder.parent.name, lang, name or "source", i, r.get("predicted"), bool(r["correct"])])
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(["model", "language", "translator", "id"])
    RECORDS.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(RECORDS, index=False, lineterminator="\n")
    return table


def pooled(table: pd.DataFrame, a: str, b: str, reps: int, seed: int) -> list[str]:
    lines = []
    for model, rows in table.groupby("model", sort=True):
        right = {(r.language, r.translator, r.id): bool(r.correct) for r in rows.itertuples()}
        english = {i: c for (lang, _, i), c in right.items() if lang == "en"}
        comparisons = {f"{a} - {b}": (a, b), f"{b} - en": (b, None), f"{a} - en": (a, None)}
        clusters: dict[str, dict[str, list]] = {name: {} for name in comparisons}
        for lang in sorted(set(rows["language"]) - {"en"}):
            ids = sorted(i for (lg, t, i) in right if lg == lang and t == a
                         and (lang, b, i) in right and i in english)  # every comparison on the ids all three hold
            for name, (first, second) in comparisons.items():
                for i in ids:
                    pair = (right[lang, first, i], english[i] if second is None else right[lang, second, i])
                    clusters[name].setdefault(i, []).append(pair)
        for name, by_id in clusters.items():
            pairs = [p for ps in by_id.values() for p in ps]
            diff, low, high = cluster_bootstrap(by_id, reps=reps, seed=seed)
            n, _, n_low, n_high = paired_difference(pairs)
            lines.append(f"{model} pooled {name}: {n} pairs over {len(by_id)} question ids, {100 * diff:+.1f} pts "
                         f"[{100 * low:+.1f}, {100 * high:+.1f}] (bootstrap over ids, {reps:,} draws, seed {seed}); "
                         f"pairs taken as independent: [{100 * n_low:+.1f}, {100 * n_high:+.1f}]")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", nargs=2, metavar=("OUT", "LANGUAGES"), help="write RECORDS from a results folder")
    ap.add_argument("--a", default="local"), ap.add_argument("--b", default="okapi")
    ap.add_argument("--protocol", default="gpt4")
    ap.add_argument("--reps", type=int, default=10_000), ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.export:
        table = export(Path(args.export[0]), args.export[1].split(","), [args.a, args.b], args.protocol)
    else:
        table = pd.read_csv(RECORDS, dtype={"predicted": str})
    print("\n".join(pooled(table, args.a, args.b, args.reps, args.seed)))


if __name__ == "__main__":
    main()
