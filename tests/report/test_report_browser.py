"""leaderboard.html in a real headless chromium: it renders, sorts on a click, logs no error, fetches nothing."""

from __future__ import annotations

import json
import struct

from support.browser import click_header, column, headers, open_page
from support.results import GEMMA, QWEN, score_row, write_csv, write_results

from mmlu_ml.report.stage import run_report


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_leaderboard_renders_sorts_and_logs_nothing(tmp_path):
    write_results(tmp_path)
    paths = run_report(tmp_path, published=True, screenshot=True).paths
    width, height = png_size(paths["leaderboard.png"])
    assert width == 1280 and height > 1500   # the whole page, tables and chart
    assert json.loads((tmp_path / "report" / "report.manifest.json").read_text())["browser_console_errors"] == []

    with open_page(paths["leaderboard.html"]) as page:
        # Swahili's translation has 30% of its strings flagged: marked not comparable
        assert column(page, "by-language", 0) == ["German", "English", "Mandarin", "Swahili †"]
        head = headers(page, "by-language")
        assert head[:4] == ["Language", "Code", "Strings flagged %", "GPT-4 published %"]
        assert head.count("accuracy %") == 2 and column(page, "by-language", 2) == ["0.02", "", "", "0.3"]
        gemma_acc = [i for i, h in enumerate(head) if h == "accuracy %"][1]
        assert click_header(page, "by-language", gemma_acc) == "descending"
        values = column(page, "by-language", gemma_acc, numeric=True)
        assert values == sorted(values, reverse=True) and values[0] == 9 / 30 and len(values) == 4
        assert column(page, "by-language", 0)[0] == "Swahili †"    # gemma's best language moved to the top
        assert click_header(page, "by-language", gemma_acc) == "ascending"
        assert column(page, "by-language", gemma_acc, numeric=True) == sorted(values)
        assert click_header(page, "by-language", 0) == "ascending"
        assert column(page, "by-language", 0) == ["English", "German", "Mandarin", "Swahili †"]
        assert click_header(page, "by-language", 3) == "descending"
        assert column(page, "by-language", 3, numeric=True) == [85.5, 83.7, 80.1, 78.5]
        mean = headers(page, "models").index("Mean accuracy %")
        assert click_header(page, "models", mean) == "descending"
        assert column(page, "models", 0) == [QWEN, GEMMA]
        assert click_header(page, "models", mean) == "ascending"
        assert column(page, "models", 0) == [GEMMA, QWEN]
        # the chart (an SVG data: URI) decoded under the page's no-fetch policy
        assert page.evaluate("document.querySelector('figure img').naturalWidth") > 500
        banner = page.evaluate("document.getElementById('sample').textContent")
        assert banner.startswith("Sample, not the full test set")
        shot = page.screenshot(tmp_path / "shots" / "leaderboard.png")
        assert png_size(shot)[0] == 1280
        assert page.errors() == []
        assert all(url.startswith(("file:", "data:")) for url in page.requests())


def test_names_from_data_stay_text_in_the_browser(tmp_path):
    evil_model = "<script>window.__pwned = 1</script>"
    evil_lang = '<img src=x onerror="window.__pwned = 2">'
    write_csv(tmp_path / "scores.csv", [score_row(evil_model, evil_lang, 12), score_row(evil_model, "en", 14)])
    paths = run_report(tmp_path, screenshot=False).paths
    with open_page(paths["leaderboard.html"]) as page:
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert evil_lang in column(page, "by-language", 0) and column(page, "models", 0) == [evil_model]
        assert page.evaluate("document.querySelectorAll('img').length") == 1   # the chart, nothing injected
        assert page.errors() == []
        assert all(url.startswith(("file:", "data:")) for url in page.requests())


def test_browser_helper_reports_errors_and_fetches(tmp_path):
    # the checks above can fail: a page that throws, logs an error and fetches is caught on all three
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><p>x</p><img src="http://127.0.0.1:9/nothing.png">'
                   '<script>console.error("boom"); throw new Error("kaboom");</script>')
    with open_page(bad) as page:
        errors = page.errors()
        assert any("boom" in e for e in errors) and any("kaboom" in e for e in errors)
        assert "http://127.0.0.1:9/nothing.png" in page.requests()
