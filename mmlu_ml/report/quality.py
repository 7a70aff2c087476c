"""translation_quality.md: the translate stage's checks of every language, side by side, per translator.

The checks' inner shape belongs to mmlu_ml/core/checks.py; this reads it loosely (a number, or a mapping with a
share/rate/count and its offending ids) so a new check shows up here without a change.
"""

from __future__ import annotations

from .leaderboard import md, md_code, md_table
from .data import Results, flag_share

SHARE_KEYS = ("share", "rate", "fraction", "ratio")
COUNT_KEYS = ("count", "n", "value", "total")
SKIP = ("failed", "thresholds", "threshold")


def _number(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.3g}"


def check_cell(value) -> str:
    """A check's figure in a few characters: `4.2% (7)`, `3`, `-`."""
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dict) and isinstance(value.get("still_flagged"), int) and value.get("lines"):
        # the instruction lines' checks (translate/instructions.py): the lines that failed every retry
        return f"{100 * value['still_flagged'] / value['lines']:.1f}% ({value['still_flagged']} of {value['lines']})"
    if isinstance(value, dict):
        ids = value.get("ids") or value.get("offending") or value.get("examples")
        count = next((value[k] for k in COUNT_KEYS if isinstance(value.get(k), (int, float))), None)
        if count is None and isinstance(ids, list):
            count = len(ids)
        share = next((value[k] for k in SHARE_KEYS if isinstance(value.get(k), (int, float))), None)
        if share is not None:
            return f"{100 * share:.1f}%" + (f" ({_number(count)})" if count is not None else "")
        if count is not None:
            return _number(count)
        return "-"
    if isinstance(value, list):
        return f"{len(value):,}"
    return md(value) if value not in (None, "") else "-"


def _order(results: Results, manifest: dict) -> tuple:
    codes = list(results.languages)
    lang = str(manifest.get("language"))
    split = str(manifest.get("split"))
    return (codes.index(lang) if lang in codes else len(codes), lang, ("dev", "val", "test").index(split)
            if split in ("dev", "val", "test") else 3)


def _fingerprint(fp) -> str:
    if isinstance(fp, dict):
        return "|".join(f"{k}:{v}" for k, v in fp.items())
    return str(fp or "-")


def summary(results: Results, by_translator: dict[str, list[dict]]) -> list[str]:
    """Every translation of a language and split in one row: the share of strings the checks flagged."""
    names = list(by_translator)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for name, manifests in by_translator.items():
        for m in manifests:
            share = flag_share(m)
            coverage = f", coverage {100 * m['coverage']:.0f}%" if isinstance(m.get("coverage"), (int, float)) else ""
            cells.setdefault((str(m.get("language")), str(m.get("split"))), {})[name] = (
                "-" if share is None else f"{100 * share:.1f}%{coverage}")
    order = sorted(cells, key=lambda k: _order(results, {"language": k[0], "split": k[1]}))
    return (["## Side by side: share of strings flagged by any check", ""]
            + md_table(["Language", "Split", *[md(n) for n in names]],
                       [[md(lang), md(split), *[cells[(lang, split)].get(n, "-") for n in names]]
                        for lang, split in order]) + [""])


def to_markdown(results: Results) -> str:
    out = ["# Translation quality", "",
           "The translate stage's checks for each language and split, side by side (from the manifests under "
           "`translations/`). A mark ✗ flags a check over its threshold.", ""]
    if not results.manifests:
        out += [f"No translation manifests under {md(str(results.out / 'translations'))}: these results were not "
                "translated by `mmlu-ml translate` in this folder.", ""]
        return "\n".join(out)
    by_translator: dict[str, list[dict]] = {}
    for m in results.manifests:
        by_translator.setdefault(m["_translator_dir"], []).append(m)
    out += summary(results, by_translator)
    for name, manifests in by_translator.items():
        manifests.sort(key=lambda m: _order(results, m))
        out += [f"## Translator {md(name)}", ""]
        header = ["Figure"] + [f"{md(str(m.get('language')))} {md(str(m.get('split')))}" for m in manifests]
        rows = []
        imported = any("imported" in m for m in manifests)
        # a set imported from elsewhere: how it lined up with the English; one we translated: what it cost
        keys = (("rows", "matched", "missing", "extra", "answer_mismatch", "subject_mismatch", "number_mismatch")
                if imported else ("questions", "strings", "distinct", "untranslatable", "failed"))
        for key in keys:
            rows.append([md(key.replace("_", " "))] + [check_cell((m.get("counts") or {}).get(key)) for m in manifests])
        if imported:
            rows.append(["coverage"] + [f"{100 * m['coverage']:.1f}%" if isinstance(m.get("coverage"), (int, float))
                                        else "-" for m in manifests])
        else:
            rows.append(["characters billed"] + [check_cell((m.get("chars") or {}).get("billed")) for m in manifests])
        names = list(dict.fromkeys(k for m in manifests for k in (m.get("checks") or {})
                                   if k not in SKIP and k != "questions"))
        for check in names:
            cells = []
            for m in manifests:
                checks = m.get("checks") or {}
                failed = check in (checks.get("failed") or [])
                cells.append(check_cell(checks.get(check)) + (" ✗" if failed else ""))
            rows.append([md(check.replace("_", " "))] + cells)
        rows.append(["checks failed"] + [
            md(", ".join((m.get("checks") or {}).get("failed") or [])) or "none" for m in manifests])
        out += md_table(header, rows)
        out += [""]
        for fp in dict.fromkeys(_fingerprint(m.get("translator")) for m in manifests):
            out.append(f"Signature: translator {md_code(fp, False)}  ")
        versions = sorted({str(m.get("tool_version")) for m in manifests if m.get("tool_version")})
        hashes = sorted({str(m.get("source_hash"))[:16] for m in manifests if m.get("source_hash")})
        out += [f"Source sha256: {md(', '.join(hashes) or '-')}; tool version {md(', '.join(versions) or '-')}; "
                f"manifests: {md(', '.join(m['_path'] for m in manifests))}", ""]
    return "\n".join(out)
