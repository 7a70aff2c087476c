"""Stage 3: turn <out>/scores.csv (and the stage manifests) into <out>/report/.

Writes accuracy_by_language.png/.svg (the GPT-4 report's chart for our models), leaderboard.md/.csv/.html,
translation_quality.md, questions.html and questions/<lang>.html (each question, its translations and every
model's answers) when the folder has predictions, report.manifest.json, and leaderboard.png (the page as chromium renders it) when a
chromium is at hand. Everything is rendered in memory first and each file is written atomically, so a
failure leaves the previous report intact rather than half of a new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from . import data as report_data, html as report_html, leaderboard, quality as report_quality
from . import questions as report_questions, questions_page
from ..core import locks
from ..core.artifacts.results import read_checks, read_sensitivity
from ..core.errors import MmluMlError
from ..core.records import read_json_dict, same_but, write_atomic, write_json

log = logging.getLogger(__name__)

INPUTS = ("scores.csv", "scores_by_category.csv", "paired.csv", "paired_by_checks.csv", "translators.csv",
          "scores_by_tag.csv")


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def screenshot_page(html: Path, png: Path) -> list[str]:
    """Render the page in headless chromium, save a PNG, return what the console reported as errors."""
    from .browser import Browser

    with Browser() as browser:
        page = browser.open(html.resolve().as_uri())
        page.screenshot(png)
        return page.errors()


@dataclass(frozen=True)
class Report:
    paths: dict[str, Path]  # file name -> where it was written
    board: leaderboard.Board
    console: list[str]      # what leaderboard.html logged as errors in chromium


def run_report(out: str | os.PathLike = "results", published: bool = True, screenshot: bool | None = None) -> Report:
    """Write the report for the results in `out`. `screenshot`: True needs chromium, None takes the screenshot
    when chromium is installed, False skips it. Two reports of one folder at once: one waits for the other."""
    out = Path(out)
    results = report_data.load(out)  # a folder with no results fails here, before the lock is made in it
    with locks.held(out / ".report.lock", f"writing the report of {out}"):
        return _report(out, results, published, screenshot)


def _report(out: Path, results, published: bool, screenshot: bool | None) -> Report:
    board = leaderboard.build(results, published)
    folder = out / "report"
    paths = _write_files(folder, _render(out, results, board, published))
    console = _screenshot(folder, paths, screenshot)
    manifest = {
        "tool_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "published_series": published,
        "inputs": {name: _sha256(out / name) for name in INPUTS if (out / name).is_file()},
        "translation_manifests": [m["_path"] for m in results.manifests],
        "sample": board.note or None,
        "series": [{"model": m.series[0], "protocol": m.series[1], "languages": m.languages, "mean_accuracy": m.mean,
                    "signature": m.signature, "model_fingerprint": m.fingerprint} for m in board.models],
        "files": sorted(paths),
        "browser_console_errors": console,
    }
    # drawn again from the same inputs: the earlier manifest, and its date, stand
    if not same_but(read_json_dict(folder / "report.manifest.json"), manifest):
        write_json(folder / "report.manifest.json", manifest)
    for path in [*paths.values(), folder / "report.manifest.json"]:
        os.chmod(path, 0o644)  # temp files are created 0600; a report is meant to be read and served
    return Report(paths, board, console)


def _render(out: Path, results, board, published: bool) -> dict[str, bytes | str]:
    """Every file of the report, by name: the charts' bytes, the pages' text."""
    from . import chart, sensitivity  # matplotlib is slow to import; only the report needs it

    fig = chart.draw(results, published)
    rendered: dict[str, bytes] = {
        "accuracy_by_language.png": chart.render(fig, "png"),
        "accuracy_by_language.svg": chart.render(fig, "svg"),
    }
    pairs, tags = read_sensitivity(out)
    checks = read_checks(out)
    if pairs:
        pair_fig = sensitivity.draw(pairs)
        rendered.update({"translators.png": chart.render(pair_fig, "png"),
                         "translators.svg": chart.render(pair_fig, "svg")})
    pages = report_questions.build(results)
    links = {p.code: f"{questions_page.FOLDER}/{report_questions.page_name(p.code)}" for p in pages}
    markdown = (leaderboard.to_markdown(board).rstrip("\n").split("\n")
                + sensitivity.markdown(pairs, tags, checks=checks))
    texts: dict[str, str] = {
        "leaderboard.md": "\n".join(markdown) + "\n",
        "leaderboard.csv": leaderboard.to_csv(board),
        "leaderboard.html": report_html.to_html(
            board, rendered["accuracy_by_language.svg"], str(out),
            sensitivity.html(pairs, tags, rendered.get("translators.svg"), checks), links),
        "translation_quality.md": report_quality.to_markdown(results),
        **questions_page.render(pages),
    }
    return {**rendered, **texts}


def _write_files(folder: Path, files: dict[str, bytes | str]) -> dict[str, Path]:
    for name, data in files.items():
        if isinstance(data, bytes):
            write_bytes(folder / name, data)
        else:
            write_atomic(folder / name, data)
    return {name: folder / name for name in files}


def _screenshot(folder: Path, paths: dict[str, Path], screenshot: bool | None) -> list[str]:
    """leaderboard.png as chromium renders the page (added to `paths`); what its console logged as errors."""
    from .browser import BrowserError, find_chromium

    if not (screenshot or (screenshot is None and find_chromium())):
        return []
    if not find_chromium():
        raise MmluMlError("--screenshot needs chromium; install it (Debian: apt-get install chromium) "
                          "or set MMLU_ML_CHROMIUM, or pass --no-screenshot")
    try:
        console = screenshot_page(paths["leaderboard.html"], folder / "leaderboard.png")
    except (BrowserError, OSError) as exc:
        if screenshot:  # asked for explicitly: a failure is an error; otherwise the report stands without it
            raise MmluMlError(f"chromium could not screenshot leaderboard.html ({exc}); "
                              "pass --no-screenshot to skip it") from None
        log.warning("no leaderboard.png, chromium failed: %s", exc)
        return []
    paths["leaderboard.png"] = folder / "leaderboard.png"
    return console
