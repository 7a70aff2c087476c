"""What the instruction-line checks found and did, per language (BENCHMARKS.md, "Instruction lines"), from the
dev manifests and instructions.json files a results folder holds:
  .venv/bin/python bench/instruction_lines.py [results/published]
Per kind of line (gopher: the GPT-4 protocol's, on the board; cot: the zero-shot chain of thought's): lines,
flagged at first, put right by the quoted variant, put right with the subject's name in English, still flagged.
"""
import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from mmlu_ml.core.templates import KINDS


def table(out: Path) -> pd.DataFrame:
    rows = []
    for folder in sorted((out / "translations").glob("*/*")):
        path = folder / "instructions.json"
        if not path.is_file() or not (folder / "dev.manifest.json").is_file():
            continue
        lines = json.loads(path.read_text(encoding="utf-8"))
        tried = lines.get("retranslated") or {}
        for kind in KINDS:
            keys = [k for k in tried if k.startswith(f"{kind}/")]
            used = {k: lines[kind][k.split("/", 1)[1]] for k in keys}
            checks = Counter(c for k in keys for c in tried[k].get("checks") or [])
            rows.append({
                "translator": folder.parent.name, "lang": folder.name, "kind": kind, "lines": len(lines.get(kind, {})),
                "flagged": len(keys), "variant": sum(used[k] == tried[k].get("again") for k in keys),
                "name in English": sum(used[k] == tried[k].get("named") for k in keys),
                "still flagged": sum(used[k] == tried[k]["first"] for k in keys),
                "by check": ", ".join(f"{c} {n}" for c, n in sorted(checks.items()))})
    return pd.DataFrame(rows)


def main(argv: list[str]) -> int:
    df = table(Path(argv[0] if argv else "results/published"))
    print(df.to_markdown(index=False) if not df.empty else "no instruction lines found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
