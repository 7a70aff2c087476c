"""Stage 4, export: one translator's translations out as a hub-ready dataset (`hf-dataset`) or an
lm-evaluation-harness task folder over it (`lm-eval`); `FORMATS` in __init__ names the writers.

All checks come first (the --to folder, the repository name, every translation file against its manifest); the
export is then written into a temporary folder beside --to, pushed if asked, and renamed into place, so a failure
at any step leaves no folder and an earlier export, if any, as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


from .. import __version__
from ..core import registry
from ..core.errors import MmluMlError
from . import FORMATS, translations
from .hf_dataset import MARKER


@dataclass(frozen=True)
class Exported:
    provenance: dict  # what the export's mmlu_ml.json holds
    target: Path
    url: str | None   # where --push put it


def run_export(format: str, translator: str, languages: str | None, out, to, force: bool = False,
               strict: bool = False, push: str | None = None) -> Exported:
    """Check every translation asked for, then write the export in one move (and push it)."""
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
    return Exported(provenance, target, url)


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
