"""leaderboard.html: one static page that needs nothing but itself.

Inline CSS and JS, the chart as a data: URI, and a Content-Security-Policy that forbids every fetch, so the
page works from a file, an e-mail attachment or a static host. Every piece of text that comes from data goes
through `esc` (html.escape with quotes), in element text and attributes alike: a model called
`<script>...` shows as those characters and never runs.
"""

from __future__ import annotations

import base64
from html import escape

from .. import __version__
from .leaderboard import (HEADLINE, HOLM_LEVEL, NOT_COMPARABLE_NOTE, Board, category_names, diff_of, flagged_cell,
                          holm_note, letters_cell, pct, pilot_mark, pilot_note, signed_pct, unscored_note)

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2430;
  margin:0 auto;max-width:1240px;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 6px}h2{font-size:19px;margin:34px 0 8px}
.sample{background:#fff4e5;border-left:4px solid #e08a1e;padding:8px 12px;margin:10px 0}
.full{color:#3a4a5e}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:6px 0 4px}
th,td{padding:4px 10px;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
th{background:#f3f5f8;cursor:pointer;user-select:none;font-weight:600}
th[data-type=number]{text-align:right}
th.group{cursor:default;text-align:center;border-bottom:2px solid #c9d2dc;background:#fff}
th:hover{background:#e6ebf1}th:focus{outline:2px solid #4a7fc1}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
tbody tr:nth-child(even){background:#fafbfc}
.ci{color:#6b7785;font-size:12px;margin-left:4px}
a.sig{font-size:10px;vertical-align:super;margin-left:3px;color:#4a7fc1;text-decoration:none}
.signature{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;color:#4b5563;word-break:break-all;
  margin:2px 0}
figure{margin:16px 0}figure img{max-width:100%;height:auto;border:1px solid #e3e7ec}
ol.sigs li{font:12px ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all;margin:2px 0}
footer{margin-top:36px;color:#6b7785;font-size:13px}
"""

# Sorts the table whose header was clicked (or activated with Enter/Space): numbers by data-value, text
# case-insensitively, empty cells always last, ties in their current order.
SCRIPT = """
(function () {
  "use strict";
  function key(cell, type) {
    var v = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (v === "" || v === "-") return null;
    if (type === "number") { var x = parseFloat(v); return isNaN(x) ? null : x; }
    return v.toLowerCase();
  }
  function sortBy(th) {
    var body = th.closest("table").tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var type = th.getAttribute("data-type") || "text";
    var now = th.getAttribute("aria-sort");
    var dir = now === "descending" ? "ascending" : now === "ascending" ? "descending"
            : (type === "number" ? "descending" : "ascending");
    var rows = Array.prototype.map.call(body.rows, function (row, i) {
      return {row: row, i: i, k: key(row.cells[col], type)};
    });
    rows.sort(function (a, b) {
      if (a.k === null || b.k === null) return ((a.k === null) - (b.k === null)) || (a.i - b.i);
      var c = type === "number" ? a.k - b.k : a.k.localeCompare(b.k);
      return (dir === "ascending" ? c : -c) || (a.i - b.i);
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable thead tr:last-child th"), function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  });
})();
"""


def esc(text) -> str:
    return escape(str(text), quote=True)


def th(label: str, kind: str = "text") -> str:
    return f'<th scope="col" data-type="{kind}" aria-sort="none" tabindex="0">{esc(label)}</th>'


def td_text(text) -> str:
    return f"<td>{esc(text)}</td>"


def td_num(value: float | None, shown: str, extra: str = "", title: str = "") -> str:
    data = "" if value is None else repr(float(value))
    tip = f' title="{esc(title)}"' if title else ""
    return f'<td class="num" data-value="{data}"{tip}>{esc(shown)}{extra}</td>'


def table(table_id: str, header: list[str], rows: list[str], caption: str, groups: list[str] | None = None) -> str:
    above = f'<tr class="groups">{"".join(groups)}</tr>' if groups else ""
    return (f'<table class="sortable" id="{table_id}"><thead>{above}<tr>{"".join(header)}</tr></thead><tbody>'
            + "".join(f"<tr>{r}</tr>" for r in rows) + "</tbody></table>"
            + f'<p class="signature">{caption}</p>')


def _signatures(board: Board) -> str:
    return "<br>".join(f"signature, {esc(m.label)}: {esc(m.signature)}" for m in board.models)


def _models(board: Board) -> str:
    header = [th("Model"), th("Protocol"), th("Shots", "number"), th("Languages", "number"),
              th("Mean accuracy %", "number"), th("English %", "number")]
    header += [th("Mean diff. vs English (pts)", "number")] if board.has_paired else []
    header += [th("n per language"), th("Model fingerprint")]
    rows = []
    for m in board.models:
        rows.append("".join([
            td_text(m.series[0]), td_text(m.series[1]), td_num(_float(m.shots), m.shots),
            td_num(m.languages, str(m.languages)), td_num(m.mean, pct(m.mean), title=m.signature),
            td_num(m.english.headline[0] if m.english else None, pct(m.english.headline[0]) if m.english else "-",
                   title=m.english.signature if m.english else ""),
            td_num(m.mean_diff, signed_pct(m.mean_diff)) if board.has_paired else "",
            td_text(m.n), td_text(m.fingerprint or "-")]))
    return table("models", header, rows, _signatures(board))


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _language_cell(r, links: dict[str, str]) -> str:
    """The language's name, a link to its questions' page opened on the questions it lost against English."""
    name = esc(r.name + ("" if r.comparable or r.pilot is not None else " †") + pilot_mark(r))
    href = links.get(r.code)
    if not href:
        return f"<td>{name}</td>"
    flips = "" if r.code == "en" else "#flip=lost"
    tip = "its questions" if r.code == "en" else "its questions right in English and wrong here"
    return f'<td><a class="questions" href="{esc(href + flips)}" title="{esc(tip)}">{name}</a></td>'


def _languages(board: Board, links: dict[str, str]) -> str:
    paired = board.has_paired
    per = 3 if paired else 2
    lead = [th("Language"), th("Code"), th("Strings flagged %", "number")] + (
        [th("GPT-4 published %", "number")] if board.published else [])
    groups = [f'<th class="group" colspan="{len(lead)}"></th>'] + [
        f'<th class="group" scope="colgroup" colspan="{per}">{esc(board.labels[ser])}</th>' for ser in board.series]
    header = lead + [h for _ in board.series for h in [th("accuracy %", "number"), th("n (effective)", "number")]
                     + ([th("diff. vs en (pts)", "number")] if paired else [])]
    rows = []
    for r in board.languages:
        cells = [_language_cell(r, links), td_text(r.code),
                 td_num(r.flagged, flagged_cell(r), title="" if r.comparable else NOT_COMPARABLE_NOTE)]
        if board.published:
            cells.append(td_num(r.gpt4, "-" if r.gpt4 is None else f"{r.gpt4:.1f}",
                                title="GPT-4 technical report, Figure 5 (3-shot, Azure-translated MMLU)"))
        for ser in board.series:
            s, p = r.scores.get(ser), r.paired.get(ser)
            if s is None:
                cells += [td_num(None, "-")] * per
                continue
            ref = board.signature_ids.get(s.signature)
            value, low, high = s.headline
            extra = f'<span class="ci">{pct(low)}&ndash;{pct(high)}</span>'
            if ref:
                extra += f'<a class="sig" href="#sig-{ref}">{ref}</a>'
            errors = f"; unparsed {s.unparsed}, errors {s.errors}" if s.unparsed or s.errors else ""
            sample = f"; micro {pct(s.accuracy)}, subject-equal {pct(s.macro_accuracy)}"
            cells.append(td_num(value, pct(value), extra, title=s.signature + sample + errors))
            eff = f" ({s.n_effective:,.0f})" if s.n_effective is not None else ""
            cells.append(td_num(s.n, f"{s.n:,}{eff}"))
            if paired and p:
                diff, d_low, d_high = diff_of(p)
                mark = "*" if r.holm.get(ser, 1.0) < HOLM_LEVEL else ""
                ci = f'<span class="ci">{signed_pct(d_low)}, {signed_pct(d_high)}</span>'
                cells.append(td_num(diff, signed_pct(diff) + mark, ci, title=f"paired over {p['n_paired']:,} ids"))
            elif paired:
                cells.append(td_num(None, "-"))
        rows.append("".join(cells))
    note = "" if all(r.comparable or r.pilot is not None for r in board.languages) else \
        f"† {esc(NOT_COMPARABLE_NOTE)}<br>"
    note += "".join(f"{esc(line)}<br>" for line in pilot_note(board))
    note += f"{esc(holm_note(board))}<br>" if holm_note(board) else ""
    return table("by-language", header, rows, note + _signatures(board), groups)


def _sample(board: Board) -> str:
    header = [th("Model"), th("Language"), th("n", "number"), th("Micro %", "number"),
              th("Subject-equal %", "number"), th("Answers A / B / C / D %")]
    rows = ["".join([td_text(board.labels[ser]), td_text(r.name), td_num(s.n, f"{s.n:,}"),
                     td_num(s.accuracy, pct(s.accuracy), f'<span class="ci">{pct(s.ci_low)}&ndash;{pct(s.ci_high)}'
                            "</span>"),
                     td_num(s.macro_accuracy, pct(s.macro_accuracy)), td_text(letters_cell(s))])
            for ser in board.series for r in board.languages if (s := r.scores.get(ser))]
    return table("unweighted", header, rows, "Micro: each scored question once (Wilson). Subject-equal: the mean of "
                 "the subjects' accuracies. Answers: each letter's share of the answers given.")


def _categories(board: Board) -> str:
    names = category_names(board)
    header = [th("Model"), th("Language")] + [th(f"{c} %", "number") for c in names]
    rows = []
    for e in board.categories:
        cells = [td_text(e["label"]), td_text(e["name"])]
        for c in names:
            acc, n = e.get(c, (None, None))
            cells.append(td_num(acc, pct(acc), f'<span class="ci">n={n:,}</span>' if n is not None else ""))
        rows.append("".join(cells))
    return table("by-category", header, rows, _signatures(board))


def to_html(board: Board, chart_svg: bytes, out_label: str, extra: str = "", links: dict[str, str] | None = None) -> str:
    """The page; `extra`: sections other modules render (translation sensitivity, tags), before the signatures;
    `links`: language code -> its questions page (report/questions/<lang>.html), which a language's name opens."""
    chart = base64.b64encode(chart_svg).decode("ascii")
    if board.note:
        banner = (f'<p class="sample" id="sample"><strong>Sample, not the full test set:</strong> '
                  f'{esc(board.note.removeprefix("sample: "))}. Accuracies are the {esc(HEADLINE)}.</p>')
    else:
        banner = '<p class="full">Full test sets; intervals are 95% Wilson intervals.</p>'
    if board.unscored:
        banner += f'<p class="sample" id="unscored">{esc(unscored_note(board))}</p>'
    sigs = "".join(f'<li id="sig-{i}">{esc(sig)}</li>' for sig, i in board.signature_ids.items())
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>mmlu-ml: multilingual MMLU leaderboard</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>Multilingual MMLU leaderboard</h1>", banner,
        "<p>Click a column header to sort; hover a number for the configuration that produced it."
        + (' A language\'s name opens <a href="questions.html">its questions</a>: the ones its models got right in '
           "English and wrong in it." if links else "") + "</p>",
        "<h2>Models</h2>", _models(board),
        "<h2>Accuracy by language</h2>", _languages(board, links or {}),
        '<figure><img alt="Accuracy by language, with published baselines" '
        f'src="data:image/svg+xml;base64,{chart}"><figcaption class="signature">{_signatures(board)}'
        "</figcaption></figure>",
    ]
    if board.categories:
        parts += ["<h2>Accuracy by category</h2>", _categories(board)]
    parts += ["<h2>Unweighted figures</h2>", _sample(board)]
    if extra:
        parts.append(extra)
    parts += [
        '<h2>Configuration signatures</h2><ol class="sigs">', sigs, "</ol>",
        f"<footer>mmlu-ml {esc(__version__)}; regenerate with <code>mmlu-ml report --out {esc(out_label)}</code>"
        "</footer>", f"<script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"
