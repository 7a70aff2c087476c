"""The published board's translation and scoring times, and its check results, read from its manifests
(BENCHMARKS.md's "Published board" tables).

    .venv/bin/python bench/published_times.py [results/published]

One row per (language, split): strings, the characters sent and the translator's wall time over every run
whose output the split holds (the manifest's effort: a split grown piece by piece adds its pieces up; one taken
back from committed translations keeps the time of the runs that wrote it), the pace, and the share of strings
the checks flagged. Pieces run on different machines add up as they ran. Then one row per (model, language)
scored: the seconds and questions of every run of its configuration (evaluation.manifest.json's effort; a
language scored before the manifest recorded effort shows what was answered since).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from mmlu_ml.report.data import flag_share
from mmlu_ml.translate.reuse import effort


def table(out: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((out / "translations").glob("*/*/*.manifest.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        share = flag_share(m)  # the report's own reading, older manifests included
        spent = effort(m)
        rows.append({"translator": path.parent.parent.name, "language": m["language"], "split": m["split"],
                     "questions": m["counts"]["questions"], "strings": m["counts"]["strings"],
                     "distinct": m["counts"]["distinct"], "sent chars": spent["chars_sent"],
                     "time s": spent["duration_s"], "flagged %": float("nan") if share is None else 100 * share})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["chars/s"] = df["sent chars"] / df["time s"]
    return df


def scoring(out: Path) -> pd.DataFrame:
    path = out / "evaluation.manifest.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    rows = [{"model": entry.split("/")[0], "language": code, "n": lang.get("n"),
             "answered": lang["effort"]["answered"], "runs": lang["effort"]["runs"],
             "time s": lang["effort"]["duration_s"]}
            for entry, record in data.items() for code, lang in record.get("languages", {}).items()
            if "effort" in lang]
    df = pd.DataFrame(rows)
    if not df.empty:
        df["s/question"] = df["time s"] / df["answered"].where(df["answered"] > 0)
    return df


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "results/published")
    df = table(out)
    if df.empty:
        print(f"no translation manifests under {out}/translations: run STEP=translate bash bench/published.sh",
              file=sys.stderr)
        return 2
    by_language = df.groupby(["translator", "language"], as_index=False)[["strings", "sent chars", "time s"]].sum()
    print(df.round({"time s": 0, "flagged %": 1, "chars/s": 1}).to_string(index=False))
    print()
    print(by_language.assign(minutes=(by_language["time s"] / 60).round(1)).drop(columns="time s")
          .to_string(index=False))
    scored = scoring(out)
    if not scored.empty:
        print()
        print(scored.round({"time s": 0, "s/question": 2}).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
