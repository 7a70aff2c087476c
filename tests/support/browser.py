"""Headless Debian chromium for the tests: open a page, read a table, click a header, see what it logged.

The driver itself (DevTools protocol over --remote-debugging-pipe, no extra package) is
mmlu_ml.report.browser, which the report also uses for its screenshot; this adds what the tests ask of it.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mmlu_ml.report.browser import Browser, Page, find_chromium


def chromium() -> str:
    path = find_chromium()
    assert path, "the report's browser test needs chromium: apt-get install chromium (CI's .ci/run installs it)"
    return path


@contextmanager
def open_page(html: Path) -> Iterator[Page]:
    with Browser(chromium()) as browser:
        yield browser.open(Path(html).resolve().as_uri())


def headers(page: Page, table_id: str) -> list[str]:
    """The sortable header row's labels, in column order."""
    selector = json.dumps(f"#{table_id} thead tr:last-child th")
    return page.evaluate(f"Array.from(document.querySelectorAll({selector})).map(th => th.textContent.trim())")


def column(page: Page, table_id: str, index: int, numeric: bool = False) -> list:
    """A column's cells top to bottom: numbers from data-value (None when empty), else the text shown."""
    values = page.evaluate(
        f"Array.from(document.querySelectorAll({json.dumps('#' + table_id + ' tbody tr')}))"
        f".map(r => r.cells[{index}].hasAttribute('data-value') ? r.cells[{index}].getAttribute('data-value')"
        f" : r.cells[{index}].textContent.trim())")
    return [None if v == "" else float(v) for v in values] if numeric else values


def click_header(page: Page, table_id: str, index: int) -> str:
    """Click a column header like a user; returns its aria-sort afterwards."""
    selector = f"#{table_id} thead tr:last-child th:nth-child({index + 1})"
    page.click(selector)
    return page.evaluate(f"document.querySelector({json.dumps(selector)}).getAttribute('aria-sort')")
