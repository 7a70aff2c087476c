"""Stage 4, export: one translator's translations out as a hub-ready dataset (`hf-dataset`) or an
lm-evaluation-harness task folder over it (`lm-eval`); `FORMATS` in __init__ names the writers.

All checks come first (the --to folder, the repository name, every translation file against its manifest); the
export is then written into a temporary folder beside --to, pushed if asked, and renamed into place, so a failure
at any step leaves no folder and an earlier export, if any, as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click

from .. import __version__
from ..core import registry
from ..core.errors import MmluMlError
from . import FORMATS, translations
from .hf_dataset import MARKER


def run_export(format: str, translator: str, languages: str | None, out, to, force: bool = False,
               strict: bool = False, push: str | None = None) -> dict:
    """Export and print a summary; returns the export's provenance (what mmlu_ml.json holds)."""
    writer = registry.load(FORMATS, format, "export format")
    target = Path(to)
    if push and format != "hf-dataset":
        raise MmluMlError(f"--push uploads hf-dataset exports, not {format}; run `mmlu-ml export hf-dataset "
                          f"--push {push} ...` and point the lm-eval tasks at it with --metadata "
                          f"'{{\"dataset\": \"{push}\"}}'")
    _check_target(target, force)
    if push:
        from .hf_dataset import check_repo
        check_repo(push)
    sets = translations.read(Path(out), translator, languages, strict)
    context = {"format": format, "translator": translator, "tool_version": __version__,
               "exported": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    created = _first_missing(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        provenance = writer(sets, tmp, context)
        url = None
        if push:
            from .hf_dataset import push as push_folder
            url = push_folder(tmp, push)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; an export is meant to be shared
        _replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)  # only our temporary folder was in it
        raise
    _summary(format, target, sets, provenance, url)
    return provenance


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise MmluMlError(f"--to {target} is a file; choose a folder")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not force:
        raise MmluMlError(f"--to {target} exists and is not empty; choose a new folder, or add --force to replace "
                          "an earlier export there")
    if not (target / MARKER).is_file():
        # --force replaces only what an export wrote: never a clone's .git, a results folder, a home directory
        raise MmluMlError(f"--to {target} is not an earlier mmlu-ml export (it has no {MARKER}), so --force will "
                          "not replace it; choose a new folder or empty this one yourself")


def _first_missing(folder: Path) -> Path | None:
    """The outermost ancestor that does not exist yet (created for the export, removed if it fails)."""
    missing = None
    for path in [folder.absolute(), *folder.absolute().parents]:
        if path.exists():
            break
        missing = path
    return missing


def _replace(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
    os.rename(target, old / "export")
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old / "export", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _summary(format: str, target: Path, sets, provenance: dict, url: str | None) -> None:
    click.echo(f"{'language':<9} {'split':<5} {'questions':>9} {'subjects':>8}  complete  checks failed")
    for code, lang in provenance["languages"].items():
        for name, split in lang["splits"].items():
            failed = split["checks"].get("failed") or []
            click.echo(f"{code:<9} {name:<5} {split['questions']:>9,} {split['subjects']:>8}  "
                       f"{'yes' if split['complete'] else 'no':<8}  {', '.join(failed) or '-'}")
    for code, lang in provenance["languages"].items():
        if lang["gaps"]:
            click.echo(f"partial: {code}: {'; '.join(lang['gaps'])} (stated in the card; --strict refuses this)")
    first = sets[0].code
    if format == "hf-dataset":
        click.echo(f"wrote {target}: datasets.load_dataset({str(target)!r}, {first!r}, split='test')")
    else:
        from .lm_eval import group_name
        click.echo(f"wrote {target}: lm_eval --include_path {target} --tasks {group_name(provenance['translator'])} "
                   "--model ...")
    if url:
        click.echo(f"pushed to {url}")
