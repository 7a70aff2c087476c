"""What a language's score owes to its translation: translators.csv (two translations of a language scored on
the same ids, against each other and English), paired_by_checks.csv (the drop from English apart on the questions
the translation checks passed and on those they flagged) and scores_by_tag.csv (accuracy per value of an imported
set's tags, e.g. Global-MMLU's culturally sensitive CS vs agnostic CA), read, drawn and tabled for the leaderboard.
"""

from __future__ import annotations

import textwrap
from html import escape

from matplotlib.figure import Figure

from .chart import model_colors
from .leaderboard import md, md_code, md_table, pct, signed_pct

def draw(pairs: list[dict]) -> Figure:
    """One group of bars per (model, language, pair): English, translation A, translation B on the same ids,
    each with its 95% Wilson interval."""
    height = 1.2 + 0.75 * len(pairs)
    fig = Figure(figsize=(9.0, height), dpi=110)
    ax = fig.add_axes((0.34, 0.9 / height, 0.62, 1 - 1.6 / height))
    colors = dict(zip(("English", "A", "B"), model_colors(3)))
    labels = []
    for i, p in enumerate(pairs):
        for j, (what, name, acc, low, high) in enumerate((
                ("English", "English", p["accuracy_en"], p["en_low"], p["en_high"]),
                ("A", p["translator_a"], p["accuracy_a"], p["a_low"], p["a_high"]),
                ("B", p["translator_b"], p["accuracy_b"], p["b_low"], p["b_high"]))):
            y = i + (j - 1) * 0.26
            ax.barh(y, 100 * acc, height=0.24, color=colors[what])
            ax.errorbar(100 * acc, y, xerr=[[100 * (acc - low)], [100 * (high - acc)]], fmt="none",
                        ecolor="#333333", elinewidth=0.8, capsize=2)
            # each bar names its source: the legend alone cannot, A and B differ from row to row
            ax.text(100 * high + 1, y, f"{100 * acc:.1f}  {name}", va="center", fontsize=7)
        # the whole model name, wrapped: quantisations differ only at the end of the name
        labels.append(f"{p['language']}, n={p['n']}\n" + "\n".join(textwrap.wrap(p["model"], 30)))
    ax.set_yticks(range(len(pairs)), labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 125)  # room for the names after the bars
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("accuracy % on the ids both translations hold (95% Wilson intervals)", fontsize=8)
    ax.legend(handles=[ax.patches[k] for k in range(3)], labels=["English", "translation A", "translation B"],
              loc="lower right", fontsize=7, frameon=False)
    fig.suptitle("How much of a language's score is the translation", fontsize=10, y=1 - 0.25 / height)
    return fig


def _diff(p: dict, name: str) -> str:
    return (f"{signed_pct(p[f'diff_{name}'])} ({signed_pct(p[f'diff_{name}_low'])}, "
            f"{signed_pct(p[f'diff_{name}_high'])})")


def _check_cells(groups: dict[str, dict]) -> list[tuple[int, str, float | None]]:
    """(n, the drop with its interval, the drop) of the clean and the flagged questions; "-" where there are none."""
    cells = []
    for group in ("clean", "flagged"):
        g = groups.get(group) or {"n": 0, "diff": None}
        drop = ("-" if g["diff"] is None else
                f"{signed_pct(g['diff'])} ({signed_pct(g['diff_low'])}, {signed_pct(g['diff_high'])})")
        cells.append((g["n"], drop, g["diff"]))
    return cells


CHECKS_NOTE = ("the paired difference from English (Newcombe 95% interval) apart on the questions whose translated "
               "question and options passed every check and on those with a flagged string: a drop as deep on the "
               "clean questions is not the defects the checks catch")


def markdown(pairs: list[dict], tags: list[dict], chart_file: str = "translators.svg",
             checks: dict | None = None) -> list[str]:
    out = []
    if checks:
        out += ["", "## The drop where the translation checks passed and where they flagged (points)", "",
                CHECKS_NOTE[0].upper() + CHECKS_NOTE[1:] + ".", ""]
        out += md_table(["Model", "Language", "clean n", "clean vs English", "flagged n", "flagged vs English"],
                        [[md_code(model), md_code(lang)]
                         + [c for n, drop, _ in _check_cells(groups) for c in (f"{n:,}", drop)]
                         for (model, _, lang), groups in checks.items()])
    if pairs:
        out += ["", "## Translation sensitivity (same ids, %, paired 95% intervals)", "",
                f"![Two translations of each language]({chart_file})", ""]
        out += md_table(
            ["Model", "Language", "A", "B", "n", "English", "A", "B", "A - B (pts)", "A - en", "B - en",
             "answers changed"],
            [[md_code(p["model"]), md_code(p["language"]), md(p["translator_a"]), md(p["translator_b"]),
              f"{p['n']:,}", pct(p["accuracy_en"]), pct(p["accuracy_a"]), pct(p["accuracy_b"]), _diff(p, "a_b"),
              _diff(p, "a_en"), _diff(p, "b_en"), "-" if p["answers_changed"] is None else str(p["answers_changed"])]
             for p in pairs])
    if tags:
        out += ["", "## Accuracy by question tag (%, 95% interval, n)", ""]
        out += md_table(["Model", "Language", "Tag", "Value", "Accuracy", "n"],
                        [[md_code(t["model"]), md_code(t["language"]), md(t["tag"]), md(t["value"]),
                          f"{pct(t['accuracy'])} ({pct(t['ci_low'])}-{pct(t['ci_high'])})", f"{t['n']:,}"]
                         for t in tags])
    return out


def html(pairs: list[dict], tags: list[dict], chart_svg: bytes | None, checks: dict | None = None) -> str:
    import base64

    from .html import table, td_num, td_text, th

    parts = []
    if checks:
        header = [th("Model"), th("Language"), th("clean n", "number"), th("clean vs en (pts)", "number"),
                  th("flagged n", "number"), th("flagged vs en (pts)", "number")]
        rows = ["".join([td_text(model), td_text(lang)]
                        + [td for n, drop, diff in _check_cells(groups)
                           for td in (td_num(n, f"{n:,}"), td_num(diff, drop))])
                for (model, _, lang), groups in checks.items()]
        parts += ["<h2>The drop where the translation checks passed and where they flagged</h2>",
                  table("by-checks", header, rows, escape(CHECKS_NOTE))]
    if pairs:
        header = [th("Model"), th("Language"), th("A"), th("B"), th("n", "number"), th("English %", "number"),
                  th("A %", "number"), th("B %", "number"), th("A - B (pts)", "number"), th("A - en", "number"),
                  th("B - en", "number"), th("answers changed", "number")]
        rows = []
        for p in pairs:
            diffs = [td_num(p[f"diff_{k}"], signed_pct(p[f"diff_{k}"]),
                            f'<span class="ci">{signed_pct(p[f"diff_{k}_low"])}, {signed_pct(p[f"diff_{k}_high"])}</span>')
                     for k in ("a_b", "a_en", "b_en")]
            rows.append("".join([td_text(p["model"]), td_text(p["language"]), td_text(p["translator_a"]),
                                 td_text(p["translator_b"]), td_num(p["n"], f"{p['n']:,}"),
                                 *[td_num(p[k], pct(p[k])) for k in ("accuracy_en", "accuracy_a", "accuracy_b")],
                                 *diffs, td_num(p["answers_changed"], str(p["answers_changed"] or 0))]))
        parts += ["<h2>Translation sensitivity</h2>",
                  table("translators", header, rows, "two translations of a language on the ids both hold; "
                        "differences are paired (Newcombe) 95% intervals")]
        if chart_svg:
            parts.append('<figure><img alt="English and two translations per language" src="data:image/svg+xml;'
                         f'base64,{base64.b64encode(chart_svg).decode("ascii")}"></figure>')
    if tags:
        header = [th("Model"), th("Language"), th("Tag"), th("Value"), th("Accuracy %", "number"), th("n", "number")]
        rows = ["".join([td_text(t["model"]), td_text(t["language"]), td_text(t["tag"]), td_text(t["value"]),
                         td_num(t["accuracy"], pct(t["accuracy"]),
                                f'<span class="ci">{pct(t["ci_low"])}&ndash;{pct(t["ci_high"])}</span>'),
                         td_num(t["n"], f"{t['n']:,}")]) for t in tags]
        parts += ["<h2>Accuracy by question tag</h2>",
                  table("by-tag", header, rows, escape("tags come from an imported set (Global-MMLU: CS culturally "
                                                       "sensitive, CA agnostic)"))]
    return "\n".join(parts)
