"""questions.html (an index of the languages) and questions/<lang>.html (one language's questions, translations
and answers), static pages that need nothing but themselves, like leaderboard.html.

A page's data travels inside it as JSON in a `<script type="application/json">` (every `<` written `\\u003c`, so
no string can close the element) and the script (questions.js) builds the list from it with textContent only:
a question or a model called `<script>` shows as those characters. Text from data in the HTML goes through esc.
"""

from __future__ import annotations

import json
from importlib import resources

from .. import __version__
from .html import CSP, esc
from .leaderboard import pct
from .questions import Page, page_name

FOLDER = "questions"
STATUS = (("", "any"), ("lost", "right in English, wrong here"), ("gained", "wrong in English, right here"))


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json(data) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _head(title: str) -> list[str]:
    return ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>", f"<style>{_asset('questions.css')}</style></head><body>"]


def _select(name: str, label: str, options: list[tuple[str, str]], hidden: bool = False) -> str:
    opts = "".join(f'<option value="{esc(v)}">{esc(t)}</option>' for v, t in options)
    hide = " hidden" if hidden else ""
    return (f'<label class="field"{hide}>{esc(label)} <select id="f-{name}" data-key="{name}">{opts}</select>'
            "</label>")


def _controls(page: Page, pages: list[Page]) -> str:
    subjects = sorted({q["subject"] for q in page.questions})
    categories = sorted({q["category"] for q in page.questions if q["category"]})
    langs = "".join(f'<option value="{esc(page_name(p.code))}"{" selected" if p is page else ""}>'
                    f"{esc(p.name)} ({esc(p.code)})</option>" for p in pages)
    english = page.code == "en"
    parts = [f'<label class="field">Language <select id="f-lang">{langs}</select></label>',
             _select("translator", "Translation", [("", "every translation")] + [(t, t) for t in page.translators],
                     hidden=len(page.translators) < 2),
             _select("model", "Model", [("", "every model")] + [(m, m) for m in page.models]),
             _select("subject", "Subject", [("", "every subject")] + [(s, s.replace("_", " ")) for s in subjects]),
             _select("category", "Category", [("", "every category")] + [(c, c) for c in categories]),
             _select("flip", "Against English", list(STATUS), hidden=english),
             f'<label class="field"{" hidden" if english else ""}><input type="checkbox" id="f-flagged" '
             'data-key="flagged"> flagged by a check</label>',
             f'<label class="field"{" hidden" if len(page.translators) < 2 else ""}><input type="checkbox" '
             'id="f-disagree" data-key="disagree"> the translations disagree</label>',
             '<label class="field search">Search <input type="search" id="f-q" data-key="q" '
             'placeholder="any language, or an id" aria-keyshortcuts="/"></label>']
    return f'<form id="filters" role="search" onsubmit="return false">{"".join(parts)}</form>'


def language_page(page: Page, pages: list[Page]) -> str:
    """questions/<lang>.html."""
    languages = [{"code": p.code, "file": page_name(p.code)} for p in pages]
    parts = _head(f"mmlu-ml: questions, {page.name}") + [
        '<header><nav><a href="../leaderboard.html">Leaderboard</a> &middot; '
        '<a href="../questions.html">All languages</a></nav>',
        f"<h1>Questions: {esc(page.name)} <span class=\"code\">{esc(page.code)}</span></h1>",
        "<p class=\"help\">Each scored question with its translations and every model's answers. Filter, search "
        "(<kbd>/</kbd>), open a question with Enter; its link (#id) opens it again. Probabilities are the softmax "
        "over the four letters' log-probabilities.</p></header>",
        _controls(page, pages),
        '<p id="summary" aria-live="polite"></p><table id="accuracy"><thead><tr><th scope="col">Model</th>'
        '<th scope="col">Translation</th><th scope="col">Accuracy here</th><th scope="col">English</th>'
        '<th scope="col">Lost</th><th scope="col">Gained</th></tr></thead><tbody></tbody></table>',
        '<ol id="list"></ol><button type="button" id="more" hidden>Show more</button>',
        f'<script type="application/json" id="data">{_json(page.data(languages))}</script>',
        f"<footer>mmlu-ml {esc(__version__)}</footer><script>{_asset('questions.js')}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _counts(page: Page, model: str) -> tuple[int, int, int, int]:
    """(answered, right, lost, gained) of a model on the page's first translation (English on en)."""
    here = "en" if page.code == "en" else (page.translators[0] if page.translators else "")
    n = right = lost = gained = 0
    for q in page.questions:
        answers = q["a"].get(model, {})
        if here not in answers:
            continue
        n += 1
        ok = answers[here][0] == q["gold"]
        right += ok
        if "en" in answers and page.code != "en":
            en_ok = answers["en"][0] == q["gold"]
            lost += en_ok and not ok
            gained += ok and not en_ok
    return n, right, lost, gained


# questions.html#lang=de&flip=lost opens questions/de.html#flip=lost
REDIRECT = """(function(){var h=location.hash.slice(1),p=new URLSearchParams(h),l=p.get("lang");if(!l)return;
var a=document.querySelector('a[data-lang="'+CSS.escape(l)+'"]');if(!a)return;p.delete("lang");
location.replace(a.getAttribute("href").split("#")[0]+(p.toString()?"#"+p.toString():""));})();"""


def index_page(pages: list[Page]) -> str:
    """questions.html: each language's questions, answers and flips per model, linking to its page."""
    models = list(dict.fromkeys(m for p in pages for m in p.models))
    head = "".join(f'<th scope="colgroup" colspan="3">{esc(m)}</th>' for m in models)
    sub = "<th>accuracy %</th><th>lost</th><th>gained</th>" * len(models)
    rows = []
    for p in pages:
        href = f"{FOLDER}/{page_name(p.code)}"
        cells = [f'<td><a data-lang="{esc(p.code)}" href="{esc(href)}">{esc(p.name)}</a></td><td>{esc(p.code)}</td>'
                 f'<td class="num">{len(p.questions)}</td>']
        for m in models:
            n, right, lost, gained = _counts(p, m)
            flip = p.code != "en" and n
            cells.append(f'<td class="num">{pct(right / n) if n else "-"}</td>'
                         + (f'<td class="num"><a href="{esc(href)}#flip=lost&amp;model={esc(m)}">{lost}</a></td>'
                            f'<td class="num"><a href="{esc(href)}#flip=gained&amp;model={esc(m)}">{gained}</a></td>'
                            if flip else '<td class="num">-</td><td class="num">-</td>'))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    parts = _head("mmlu-ml: questions by language") + [
        '<header><nav><a href="leaderboard.html">Leaderboard</a></nav><h1>Questions by language</h1>',
        "<p class=\"help\">Each language's page sets every scored question beside its translations and every "
        "model's answers. Lost: right in English, wrong in the language; gained: the reverse.</p></header>",
        f'<table id="languages"><thead><tr><th rowspan="2">Language</th><th rowspan="2">Code</th>'
        f'<th rowspan="2">Questions</th>{head}</tr><tr>{sub}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        f"<footer>mmlu-ml {esc(__version__)}</footer><script>{REDIRECT}</script></body></html>"]
    return "\n".join(parts) + "\n"


def render(pages: list[Page]) -> dict[str, str]:
    """File name under report/ -> text: questions.html and one page per language; {} when nothing was scored
    with predictions."""
    if not pages:
        return {}
    files = {"questions.html": index_page(pages)}
    for page in pages:
        files[f"{FOLDER}/{page_name(page.code)}"] = language_page(page, pages)
    return files
