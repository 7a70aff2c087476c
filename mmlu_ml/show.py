"""What the `mmlu-ml` command prints of each stage's result: the stages return data, and only cli.py calls
these. Tables go to stdout; warnings are logged (cli.py sets logging up)."""

from __future__ import annotations

from pathlib import Path

import click


# --- translate ----------------------------------------------------------------------------------------------

def dry_run(rows: list[dict], price_per_million: float) -> None:
    """rows: {language, translator, strings, distinct, untranslatable, cached, send, chars, priced}. Only a
    translator billed by the character (Azure) gets a price: a local model's cost is time, a chat API's tokens."""
    click.echo(f"{'language':<9} {'translator':<10} {'strings':>9} {'distinct':>9} {'copied':>7} {'cached':>8} "
               f"{'to send':>9} {'characters':>13} {'USD':>10}")
    for r in rows:
        usd = f"{r['chars'] / 1e6 * price_per_million:,.2f}" if r["priced"] else "-"
        click.echo(f"{r['language']:<9} {r['translator']:<10} {r['strings']:>9,} {r['distinct']:>9,} "
                   f"{r['untranslatable']:>7,} {r['cached']:>8,} {r['send']:>9,} {r['chars']:>13,} {usd:>10}")
    send = sum(r["send"] for r in rows)
    chars = sum(r["chars"] for r in rows)
    priced = sum(r["chars"] for r in rows if r["priced"])
    unpriced = sorted({r["translator"] for r in rows if r["chars"] and not r["priced"]})
    cost = f"about {priced / 1e6 * price_per_million:,.2f} USD at {price_per_million:g} USD per million characters"
    if unpriced:
        cost = f"no price for {', '.join(unpriced)}: not billed by the character"
    click.echo(f"total: {send:,} strings, {chars:,} characters to send over {len(rows)} languages; {cost} "
               "(dry run: nothing sent, nothing written)")


def translated(rows: list[dict]) -> None:
    click.echo(f"{'language':<9} {'split':<5} {'strings':>8} {'distinct':>8} {'sent':>7} {'sent chars':>11} "
               f"{'cached chars':>12} {'billed':>11} {'requests':>8} {'failed':>6}  checks flagged")
    for r in rows:
        flagged = ", ".join(r["flagged"]) or "-"
        click.echo(f"{r['language']:<9} {r['split']:<5} {r['strings']:>8,} {r['distinct']:>8,} {r['sent']:>7,} "
                   f"{r['chars']['sent']:>11,} {r['chars']['cached']:>12,} {r['chars']['billed']:>11,} "
                   f"{r['requests']:>8,} {r['failed']:>6,}  {flagged}")


# --- import -------------------------------------------------------------------------------------------------

def imported(rows: list[dict], out: Path, name: str) -> None:
    click.echo(f"{'language':<9} {'split':<5} {'rows':>7} {'matched':>8} {'missing':>8} {'extra':>6} "
               f"{'left out':>8} {'numbers≠':>8} {'coverage':>9}  checks flagged")
    for r in rows:
        click.echo(f"{r['language']:<9} {r['split']:<5} {r['rows']:>7,} {r['matched']:>8,} {r['missing']:>8,} "
                   f"{r['extra']:>6,} {r['left_out']:>8,} {r['numbers']:>8,} {100 * r['coverage']:>8.1f}%  {r['flagged']}")
    click.echo(f"written: {Path(out) / 'translations' / name}  (evaluate it with --translator {name})")


# --- evaluate -----------------------------------------------------------------------------------------------

def evaluated(result) -> None:
    """result: evaluate.stage.Evaluation."""
    for s in result.rows:
        click.echo(f"{s['language']:<6} accuracy {s['accuracy']:6.1%}  95% CI [{s['ci_low']:.1%}, {s['ci_high']:.1%}]  "
                   f"n={s['n']} correct={s['correct']} unparsed={s['unparsed']} errors={s['errors']}  "
                   f"macro {s['macro_accuracy']:.1%}  whole split (weighted) {s['weighted_accuracy']:.1%} "
                   f"[{s['weighted_ci_low']:.1%}, {s['weighted_ci_high']:.1%}]  {s['signature']}")
    for r in result.pairs:
        click.echo(f"{r['language']:<6} {r['translator_a']} {r['accuracy_a']:.1%} vs {r['translator_b']} "
                   f"{r['accuracy_b']:.1%} on n={r['n']}: diff {100 * r['diff_a_b']:+.1f} pts "
                   f"[{100 * r['diff_a_b_low']:+.1f}, {100 * r['diff_a_b_high']:+.1f}], "
                   f"{r['answers_changed']} answers changed")
    click.echo(f"scores: {result.scores}  predictions: {result.predictions}")


# --- report -------------------------------------------------------------------------------------------------

def reported(result) -> None:
    """result: report.stage.Report."""
    from .report.leaderboard import unscored_note

    board, paths = result.board, result.paths
    for m in board.models:
        english = f", English {100 * m.english.accuracy:.1f}%" if m.english else ""
        click.echo(f"{m.label}: mean {100 * m.mean:.1f}% over {m.languages} language(s){english} "
                   f"(n={m.n} per language)")
    if board.note:
        click.echo(f"note: {board.note}, not the full test set")
    if board.unscored:
        click.echo(f"warning: {unscored_note(board)}")
    if result.console:
        click.echo(f"warning: leaderboard.html logged {len(result.console)} error(s) in chromium: "
                   f"{result.console[0][:200]}")
    click.echo(f"chart: {paths['accuracy_by_language.png']} (and .svg)")
    shot = f"; screenshot {paths['leaderboard.png']}" if "leaderboard.png" in paths else ""
    click.echo(f"leaderboard: {paths['leaderboard.html']} (and .md, .csv{shot})")
    click.echo(f"translation checks: {paths['translation_quality.md']}")
    if "questions.html" in paths:
        pages = sum(1 for name in paths if name.startswith("questions/"))
        click.echo(f"questions: {paths['questions.html']} (and {pages} language page(s) beside it)")


# --- export -------------------------------------------------------------------------------------------------

def exported(format: str, target: Path, provenance: dict, url: str | None) -> None:
    click.echo(f"{'language':<9} {'split':<5} {'questions':>9} {'subjects':>8}  complete  checks failed")
    for code, lang in provenance["languages"].items():
        for name, split in lang["splits"].items():
            failed = split["checks"].get("failed") or []
            click.echo(f"{code:<9} {name:<5} {split['questions']:>9,} {split['subjects']:>8}  "
                       f"{'yes' if split['complete'] else 'no':<8}  {', '.join(failed) or '-'}")
    for code, lang in provenance["languages"].items():
        if lang["gaps"]:
            click.echo(f"partial: {code}: {'; '.join(lang['gaps'])} (stated in the card; --strict refuses this)")
    first = next(iter(provenance["languages"]))
    if format == "hf-dataset":
        click.echo(f"wrote {target}: datasets.load_dataset({str(target)!r}, {first!r}, split='test')")
    else:
        from .export.lm_eval import group_name
        click.echo(f"wrote {target}: lm_eval --include_path {target} --tasks {group_name(provenance['translator'])} "
                   "--model ...")
    if url:
        click.echo(f"pushed to {url}")
