"""Results folders as the evaluate and translate stages write them (scores.csv, per category, paired, manifests),
for the report's tests."""

from __future__ import annotations

import csv
import json
import math

COLUMNS = ("model protocol language n correct unparsed errors accuracy ci_low ci_high macro_accuracy shots "
           "translator model_fingerprint questions_total limit tool_version signature").split()
QWEN, GEMMA = "qwen2.5-coder-1.5b-instruct-q4_k_m", "gemma-3-270m-q4_k_m"
BASELINES = ["Random guessing", "Chinchilla (English)", "PaLM (English)", "GPT-3.5 (English)"]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p, d = k / n, 1 + z * z / n
    centre, half = (p + z * z / (2 * n)) / d, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def score_row(model, language, correct, n=30, total=14042, limit=10, protocol="gpt4", shots=3):
    low, high = wilson(correct, n)
    translator = "identity" if language == "en" else "local(qwen2.5-1.5b,p2)"
    sig = (f"protocol:{protocol}|shots:{shots}|translator:{translator}|model:{model}@cc324af0|"
           f"n:{n}/{total}|v:0.1.0")
    return dict(model=model, protocol=protocol, language=language, n=n, correct=correct, unparsed=0, errors=0,
                accuracy=correct / n, ci_low=low, ci_high=high, macro_accuracy=correct / n, shots=shots,
                translator=translator, model_fingerprint=f"{model}@cc324af0", questions_total=total,
                limit="" if limit is None else limit, tool_version="0.1.0", signature=sig)


def write_csv(path, rows, columns=COLUMNS):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# correct answers out of 30, per model and language
CORRECT = {QWEN: {"en": 17, "de": 19, "sw": 10, "zh": 15}, GEMMA: {"en": 8, "de": 7, "sw": 9, "zh": 6}}


def write_results(out, correct=CORRECT, limit=10, n=30, total=14042, extras=True):
    """scores.csv (+ per-category, paired, two translation manifests) as the other stages write them."""
    rows = [score_row(m, lang, k, n=n, total=total, limit=limit)
            for m, per in correct.items() for lang, k in per.items()]
    write_csv(out / "scores.csv", rows)
    if not extras:
        return rows
    cats = []
    for m, per in correct.items():
        for lang, k in per.items():
            for i, cat in enumerate(("STEM", "humanities", "social sciences", "other")):
                c = min(8, max(0, k // 4 + i - 1))
                low, high = wilson(c, 8)
                cats.append(dict(model=m, protocol="gpt4", language=lang, category=cat, n=8, correct=c,
                                 accuracy=c / 8, ci_low=low, ci_high=high))
    write_csv(out / "scores_by_category.csv", cats, list(cats[0]))
    paired = [dict(model=m, protocol="gpt4", language=lang, n_paired=n, accuracy_lang=k / n,
                   accuracy_en=per["en"] / n, diff=(k - per["en"]) / n, diff_low=(k - per["en"]) / n - 0.2,
                   diff_high=(k - per["en"]) / n + 0.2) for m, per in correct.items() for lang, k in per.items()]
    write_csv(out / "paired.csv", paired, list(paired[0]))
    for lang, failed in (("de", []), ("sw", ["not_target_language", "repetition_loops"])):
        folder = out / "translations" / "local" / lang
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "test.manifest.json").write_text(json.dumps({
            "tool_version": "0.1.0", "translator": {"backend": "local", "model": "qwen2.5-1.5b", "prompt": "p2"},
            "source": "mmlu", "source_hash": "ab" * 32, "language": lang, "split": "test",
            "counts": {"questions": 40, "strings": 200, "distinct": 198, "untranslatable": 3, "failed": 0},
            "chars": {"sent": 9000, "cached": 0, "billed": 9000}, "requests": 25, "duration_s": 12.5,
            "checks": {"not_target_language": {"share": 0.3 if failed else 0.02, "ids": ["astronomy/test/1"]},
                       "identical_options": {"count": 0, "ids": []},
                       "repetition_loops": {"share": 0.12 if failed else 0.0, "count": 24 if failed else 0},
                       "failed": failed}}), encoding="utf-8")
    return rows
