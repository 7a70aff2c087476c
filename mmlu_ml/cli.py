"""The `mmlu-ml` command: parse options, call a stage, print. Stages live in their own modules."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import Counter

import click

from . import __version__, show
from .core.errors import Interrupted, MmluMlError
from .core.options import Places, Selection
from .core.protocols import PROTOCOLS, get as get_protocol
from .export import FORMATS as EXPORT_FORMATS  # a plain dict: the writers import when used


class Group(click.Group):
    """Turns our errors into one line on stderr and exit code 2, wherever they are raised."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MmluMlError as exc:
            click.echo(f"mmlu-ml: error: {exc}", err=True)
            ctx.exit(exc.exit_code)

    def main(self, args=None, prog_name=None, **kwargs):  # type: ignore[override]  # always returns: exit codes are ours
        """Option errors too become one line (click's own form is usage + hint + error)."""
        try:
            return super().main(args, prog_name, standalone_mode=False, **kwargs) or 0
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort as exc:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
            said = exc.__cause__ if isinstance(exc.__cause__, Interrupted) else None
            click.echo(f"mmlu-ml: interrupted; {said}" if said and str(said) else "mmlu-ml: aborted", err=True)
            _exit(130)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)  # a usage error knows its command; other click errors do not
            command = ctx.command_path if ctx else "mmlu-ml"
            message = " ".join(exc.format_message().split()).rstrip(".")
            click.echo(f"mmlu-ml: error: {message}; see `{command} --help`", err=True)
            sys.exit(exc.exit_code)


def _exit(code: int) -> None:
    """sys.exit, unless a request left hanging in a worker thread would hold the exit until it times out: then
    leave at once (every cached batch is committed; files are written whole or not at all)."""
    if not any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def common(default_languages: str = "gpt4", default_splits: str = "test"):
    """The options every stage shares; each is also read from an MMLU_ML_* variable."""

    def wrap(f):
        options = [
            click.option("--source", envvar="MMLU_ML_SOURCE", default=None, show_envvar=True,
                         help="MMLU source: hf:<id or path> (default hf:cais/mmlu), a CSV folder, or a .tar of it."),
            click.option("--languages", envvar="MMLU_ML_LANGUAGES", default=default_languages,
                         show_default=True, show_envvar=True,
                         help="Codes separated by commas, or gpt4 (English + the report's 26), mmmlu, global_mmlu, all."),
            click.option("--subjects", envvar="MMLU_ML_SUBJECTS", default="all", show_default=True, show_envvar=True,
                         help="MMLU subjects separated by commas, or all."),
            click.option("--splits", envvar="MMLU_ML_SPLITS", default=default_splits, show_default=True,
                         show_envvar=True, help="dev, val, test, separated by commas."),
            click.option("--limit", envvar="MMLU_ML_LIMIT", type=click.IntRange(min=1), default=None,
                         show_envvar=True, help="Keep the first N questions of each subject and split."),
            click.option("--cache-dir", envvar="MMLU_ML_CACHE_DIR", default="cache", show_default=True,
                         show_envvar=True, type=click.Path(file_okay=False), help="Caches (translations, responses, models)."),
            click.option("--out", envvar="MMLU_ML_OUT", default="results", show_default=True, show_envvar=True,
                         type=click.Path(file_okay=False), help="Where results are written."),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return wrap


class _Lines(logging.Formatter):
    """`mmlu-ml: warning: ...` for what the library logs, as the CLI's own lines read."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return f"mmlu-ml: {level}{record.getMessage()}"


def setup_logging(verbosity: int) -> None:
    """The library logs under `mmlu_ml`; the command shows warnings and progress notes (-q: errors only,
    -v: debug too)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Lines())
    root = logging.getLogger("mmlu_ml")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel({-1: logging.ERROR, 0: logging.INFO}.get(verbosity, logging.DEBUG))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mmlu-ml")
@click.option("-v", "--verbose", "verbose", count=True, help="Log more (debug lines).")
@click.option("-q", "--quiet", is_flag=True, help="Log errors only (tables and results are still printed).")
def main(verbose: int = 0, quiet: bool = False):
    """Translate MMLU, score models per language, chart the result against the GPT-4 report.

    \b
    Example, the whole pipeline on a small slice:
      mmlu-ml run --source ../shared/mmlu --languages en,de --limit 5
    """
    setup_logging(-1 if quiet else verbose)


def chosen(kwargs: dict) -> tuple[Selection, Places]:
    """The common options, taken out of `kwargs` as the two objects every stage takes."""
    selection = Selection.parse(*(kwargs.pop(k) for k in ("source", "subjects", "splits", "limit")))
    return selection, Places(kwargs.pop("out"), kwargs.pop("cache_dir"))


@main.command()
@common(default_splits="dev,val,test")
def data(**kwargs):
    """Count the questions of a source per split, subject and category.

    \b
    Example:
      mmlu-ml data --source ../shared/mmlu
    """
    from .core.subjects import CATEGORIES, CATEGORY

    selection, _ = chosen(kwargs)
    subj, spl = selection.subjects, selection.splits
    ds = selection.dataset()
    per = Counter((q.subject, q.split) for q in ds.questions)
    width = max(len(s) for s in subj)
    click.echo(f"{'subject':<{width}}  {'category':<15} " + " ".join(f"{s:>6}" for s in spl))
    for s in subj:
        click.echo(f"{s:<{width}}  {CATEGORY[s]:<15} " + " ".join(f"{per[(s, sp)]:>6,}" for sp in spl))
    click.echo("")
    cats = Counter((q.category, q.split) for q in ds.questions)
    for c in CATEGORIES:
        click.echo(f"{'[' + c + ']':<{width}}  {'':<15} " + " ".join(f"{cats[(c, sp)]:>6,}" for sp in spl))
    totals = Counter(q.split for q in ds.questions)
    click.echo(f"{'total (' + str(len(subj)) + ' subjects)':<{width}}  {'':<15} "
               + " ".join(f"{totals[sp]:>6,}" for sp in spl))
    click.echo(f"source: {ds.source}  sha256: {ds.source_hash[:16]}")


@main.command(name="languages")
@click.option("--select", default="all", show_default=True, help="Which languages to list (same selectors as --languages).")
def languages_cmd(select):
    """List the languages, their Azure codes, speakers and GPT-4's published accuracy.

    \b
    Example:
      mmlu-ml languages --select gpt4
    """
    from .core.languages import load

    table = load()
    rows = table.select(select)
    click.echo(f"{'code':<6} {'name':<20} {'native':<20} {'script':<6} {'azure':<8} {'speakers(M)':>11} {'GPT-4 %':>8}  sets")
    for lang in rows:
        gpt4 = f"{lang.gpt4:.1f}" if lang.gpt4 is not None else "-"
        click.echo(f"{lang.code:<6} {lang.name:<20} {lang.native:<20} {lang.script:<6} {lang.azure:<8} "
                   f"{lang.speakers:>11,.1f} {gpt4:>8}  {','.join(lang.sets)}")
    click.echo(f"{len(rows)} languages; baselines: " + ", ".join(f"{b.name} {b.accuracy}" for b in table.baselines))


def _translate(selection: Selection, places: Places, kwargs: dict) -> None:
    """Run the translate stage and print its table (also when it fails after writing what it could)."""
    from .translate.stage import TranslationFailed, run_translate

    kwargs = dict(kwargs)
    price = kwargs.pop("price_per_million")
    try:
        rows = run_translate(selection, places, **kwargs)
    except TranslationFailed as exc:
        show.translated(exc.rows)
        raise
    if kwargs["dry_run"]:
        show.dry_run(rows, price)
    else:
        show.translated(rows)


def translate_options(f):
    for option in reversed([
        click.option("--translator", envvar="MMLU_ML_TRANSLATOR", default="local", show_default=True, show_envvar=True,
                     help="azure | openai | local | bergamot | identity."),
        click.option("--translator-model", envvar="MMLU_ML_TRANSLATOR_MODEL", default=None, show_envvar=True,
                     help="Chat model for `openai` (a served name) or `local` (a GGUF name or path)."),
        click.option("--translator-args", "translator_args", metavar="KEY=VALUE,...", default=None,
                     help="Settings of the chosen translator (e.g. local: threads=2); an unknown key names the valid ones."),
        click.option("--concurrency", type=click.IntRange(1, 256), default=4, show_default=True,
                     help="Requests in flight."),
        click.option("--chars-per-hour", type=click.IntRange(min=1), default=40_000_000, show_default=True,
                     help="Hourly character budget to pace under (Azure S1 quota by default)."),
        click.option("--price-per-million", type=click.FloatRange(min=0), default=10.0, show_default=True,
                     help="USD per million characters, for --dry-run (Azure standard list price)."),
        click.option("--glossary", envvar="MMLU_ML_GLOSSARY", default=None, show_envvar=True,
                     help="Term base for translators that take hints (local): a YAML file shaped like "
                          "mmlu_ml/translate/glossary.yaml, or none. Default: that built-in file."),
        click.option("--dry-run", is_flag=True, help="Count what would be sent and what it costs; send nothing."),
        click.option("--strict", is_flag=True, help="Exit non-zero when a translation check fails its threshold."),
    ]):
        f = option(f)
    return f


@main.command()
@common(default_splits="dev,test")
@translate_options
def translate(**kwargs):
    """Translate MMLU splits into languages, through a cache that never pays twice.

    \b
    Example:
      mmlu-ml translate --translator azure --languages sw,cy --splits dev --dry-run
    """
    _translate(*chosen(kwargs), kwargs)


@main.command(name="import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["mmmlu", "global-mmlu", "okapi", "jsonl"]))
@click.argument("source", metavar="SOURCE")
@click.option("--languages", default=None, help="Codes (fr,zh,pt-BR) or the set's locale names; default: all it has.")
@click.option("--splits", default=None, help="dev, val, test, separated by commas; default: all the set has.")
@click.option("--as", "name", default=None, help="Translator name to write under (default: FORMAT).")
@click.option("--source", "mmlu_source", envvar="MMLU_ML_SOURCE", default=None, show_envvar=True,
              help="The English MMLU to align with (as for the other commands).")
@click.option("--subjects", default="all", show_default=True,
              help="The English subjects to align with (MMMLU's row positions count through all 57).")
@click.option("--instructions-from", default=None,
              help="Copy each language's translated prompt lines (instructions.json) from this translator.")
@click.option("--out", envvar="MMLU_ML_OUT", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Results folder; the set goes to <out>/translations/<name>/.")
def import_(fmt, source, languages, splits, name, mmlu_source, subjects, instructions_from, out):
    """Import a translated MMLU made elsewhere: align it with the English, check it, write it as ours.

    \b
    SOURCE is hf:<dataset id> (through `datasets`) or a local path.
    Example:
      mmlu-ml import okapi ../shared/reference/okapi --languages fr,de,zh --splits dev,val
    """
    from .imports.stage import run_import
    rows = run_import(fmt, source, languages, splits, name, out, mmlu_source, instructions_from, subjects)
    show.imported(rows, out, rows[0]["translator"])


def evaluate_options(f):
    for option in reversed([
        click.option("--model", envvar="MMLU_ML_MODEL", default="llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m",
                     show_default=True, show_envvar=True,
                     help="llamacpp:<gguf path or name> | openai:<model> | hf:<id or path>."),
        click.option("--protocol", type=click.Choice(list(PROTOCOLS)), default="gpt4", show_default=True,
                     help="Prompt format and scoring (see README)."),
        click.option("--shots", type=click.IntRange(0, 5), default=None, help="Override the protocol's shot count."),
        click.option("--max-tokens", "max_tokens", type=click.IntRange(1, 4096), default=None,
                     help="Generation cap for cot0 (default 512)."),
        click.option("--eval-translator", "eval_translator", envvar="MMLU_ML_EVAL_TRANSLATOR", default=None,
                     help="Which translations to read when several exist (default: the only one); several, by commas, "
                          "are each scored and compared."),
        click.option("--base-url", envvar="OPENAI_BASE_URL", default=None, help="OpenAI-compatible server for openai:."),
        click.option("--model-args", "model_args", metavar="KEY=VALUE,...", default=None,
                     help="Settings of the model backend (e.g. llamacpp: n_ctx=16384,streams=2; openai: api=chat); "
                          "an unknown key names the valid ones."),
        click.option("--model-concurrency", "model_concurrency", type=click.IntRange(1, 256), default=4,
                     show_default=True, help="Requests in flight for openai: models."),
    ]):
        f = option(f)
    return f


@main.command()
@common(default_splits="test")
@evaluate_options
@click.option("--translator", "translators", default=None,
              help="Translations to score, separated by commas (e.g. okapi,local): the first fills scores.csv, "
                   "every pair is compared in translators.csv. Same as --eval-translator.")
def evaluate(translators, **kwargs):
    """Score a model per language, subject and category; resumes where it stopped.

    \b
    Example:
      mmlu-ml evaluate --model llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m --languages en,de --limit 5
      mmlu-ml evaluate --languages en,fr --splits val --translator okapi,local
    """
    from .evaluate.stage import NothingScored, run_evaluate
    if translators and kwargs["eval_translator"] and translators != kwargs["eval_translator"]:
        raise click.UsageError("--translator and --eval-translator name different translations; give one")
    kwargs["eval_translator"] = translators or kwargs["eval_translator"]
    try:
        show.evaluated(run_evaluate(*chosen(kwargs), **kwargs))
    except NothingScored as exc:  # written, then exit 1: show what was written too
        show.evaluated(exc.evaluation)
        raise


def report_options(f):
    for option in reversed([
        click.option("--published/--no-published", default=True, show_default=True,
                     help="Draw GPT-4's published accuracies beside ours."),
        click.option("--screenshot/--no-screenshot", default=None,
                     help="Save leaderboard.png as headless chromium renders it (default: when chromium is installed)."),
    ]):
        f = option(f)
    return f


@main.command()
@click.option("--out", envvar="MMLU_ML_OUT", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Results folder holding scores.csv; the report goes to <out>/report/.")
@report_options
def report(**kwargs):
    """Draw the cross-language chart and write the leaderboard from results/scores.csv.

    \b
    Example:
      mmlu-ml report --out results/published
    """
    from .report.stage import run_report
    show.reported(run_report(**kwargs))


@main.command()
@common(default_splits="test")
@translate_options
@evaluate_options
@report_options
@click.pass_context
def run(ctx, **kwargs):
    """Translate, evaluate and report, in order, with one set of options.

    \b
    Example:
      mmlu-ml run --source ../shared/mmlu --languages en,de --subjects astronomy --limit 5
    """
    from .evaluate.stage import run_evaluate
    from .report.stage import run_report

    names = lambda cmd: {p.name for p in cmd.params}  # noqa: E731

    out = kwargs["out"]
    selection, places = chosen(kwargs)
    t_kwargs = {k: v for k, v in kwargs.items() if k in names(translate)}
    for part in selection.translations_for(get_protocol(kwargs["protocol"], kwargs["shots"]).shots):
        _translate(part, places, t_kwargs)
    e_kwargs = {k: v for k, v in kwargs.items() if k in names(evaluate)}
    e_kwargs["eval_translator"] = kwargs["translator"]
    show.evaluated(run_evaluate(selection, places, **e_kwargs))
    show.reported(run_report(out=out, **{k: v for k, v in kwargs.items() if k in names(report) and k != "out"}))


@main.command()
@click.argument("format", metavar="FORMAT", type=click.Choice(list(EXPORT_FORMATS)))
@click.option("--translator", envvar="MMLU_ML_TRANSLATOR", required=True, show_envvar=True,
              help="Whose translations to export (a folder under <out>/translations/).")
@click.option("--languages", default=None, help="Codes separated by commas (default: every language it translated).")
@click.option("--to", "to", required=True, type=click.Path(), help="The folder to write (new, or an earlier export).")
@click.option("--out", envvar="MMLU_ML_OUT", default="results", show_default=True, show_envvar=True,
              type=click.Path(file_okay=False), help="Results folder holding translations/.")
@click.option("--force", is_flag=True, help="Replace an earlier export at --to.")
@click.option("--strict", is_flag=True, help="Refuse a partial translation instead of exporting it with its coverage.")
@click.option("--push", metavar="REPO", default=None,
              help="hf-dataset: also upload to this hub dataset repository (needs HF_TOKEN or `hf auth login`).")
def export(**kwargs):
    """Export translations as a hub-ready dataset (hf-dataset) or lm-evaluation-harness tasks (lm-eval).

    \b
    Examples:
      mmlu-ml export hf-dataset --translator local --to exports/mmlu-local
      mmlu-ml export lm-eval --translator local --to exports/mmlu-local-tasks
    """
    from .export.stage import run_export
    done = run_export(**kwargs)
    show.exported(kwargs["format"], done.target, done.provenance, done.url)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
