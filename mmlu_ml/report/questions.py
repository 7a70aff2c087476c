"""What questions/<lang>.html shows: every scored question of a language beside its translations and every
model's answers, gathered from the results folder through core/artifacts.

One page per scored language keeps each file small as languages are added (a page holds its own language and
English only). English text comes from `translations/<translator>/en/` when the folder has one (an identity
set); a board published without the English source shows the translations, gold letters and answers alone.
A string's flags are recomputed with core/checks when the English is there, else read from the manifests,
whose lists are capped (the page says so).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..core import artifacts
from ..core.artifacts import latest_rows, read_evaluation_manifest
from ..core.checks import MAX_IDS, THRESHOLDS, flagged_strings
from ..core.errors import MmluMlError
from ..core.paths import predictions_file
from ..core.protocols import PROTOCOLS
from ..core.records import LETTERS, Question
from ..core.subjects import CATEGORY
from .data import Results, language_order

FIX = "mmlu-ml translate (or import) again for that language"
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def page_name(code: str) -> str:
    """The file name of a language's page under report/questions/ (a code that is not a plain name is hashed)."""
    if _SAFE.match(code):
        return f"{code}.html"
    return "lang-" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:12] + ".html"


@dataclass
class Page:
    """One language's page data: plain JSON-able dicts, in a stable order."""

    code: str
    name: str
    models: list[str]
    translators: list[str]
    questions: list[dict]
    instructions: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # tr -> kind -> subj -> line
    capped: dict[str, list[str]] = field(default_factory=dict)  # tr -> checks whose manifest list is cut

    def data(self, languages: list[dict]) -> dict:
        return {"code": self.code, "name": self.name, "models": self.models, "translators": self.translators,
                "questions": self.questions, "instructions": self.instructions, "capped": self.capped,
                "languages": languages}


def _id_key(qid: str):
    parts = qid.split("/")
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def _probs(row: dict) -> list[float] | None:
    """Softmax over the four letters' log-probabilities, rounded to 3 digits; None for a generated answer."""
    lp = row.get("logprobs")
    if not isinstance(lp, dict) or not all(isinstance(lp.get(x), (int, float)) for x in LETTERS):
        return None
    top = max(lp[x] for x in LETTERS)
    e = [math.exp(lp[x] - top) for x in LETTERS]
    return [round(v / sum(e), 3) for v in e]


def _answer(row: dict) -> list:
    """[predicted letter or None, probabilities or None, error text or None]."""
    return [row.get("predicted"), _probs(row), row.get("error")]


def _entries(config: dict, code: str) -> list[tuple[str, str]]:
    """(translator, config key) of each translation of `code` a series scored, the scored one first."""
    langs = config.get("languages")
    if not isinstance(langs, dict):
        return []
    found = []
    for key, entry in langs.items():
        if (key == code or key.startswith(code + "@")) and isinstance(entry, dict) and entry.get("config_key"):
            found.append((0 if key == code else 1, str(entry.get("translator") or "source"), entry["config_key"]))
    return [(tr, ck) for _, tr, ck in sorted(found)]


def _splits(configs: dict[str, dict]) -> list[str]:
    return sorted({str(s) for c in configs.values() if isinstance(c, dict) for s in (c.get("splits") or ["test"])})


def _texts(code: str, out: Path, splits: list[str]) -> dict[str, dict[str, Question]]:
    """translator -> id -> Question of every translation set of a language (the splits that exist)."""
    found: dict[str, dict[str, Question]] = {}
    for tset in artifacts.translation_sets(out, code):
        qs: dict[str, Question] = {}
        for split in splits:
            if tset.split_file(split).is_file():
                qs.update(tset.questions(split, FIX))
        if qs:
            found[tset.translator] = qs
    return found


def _english(out: Path, splits: list[str]) -> dict[str, Question]:
    texts = _texts("en", out, splits)
    return texts.get("identity") or next(iter(texts.values()), {})


def _manifest_flags(out: Path, translator: str, code: str, splits: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """id -> ["check:field", ...] from the manifests' capped id lists, and the checks whose list was cut."""
    flags: dict[str, list[str]] = {}
    capped: set[str] = set()
    tset = artifacts.TranslationSet(out, translator, code)
    for split in splits:
        checks = (tset.manifest(split, None) or {}).get("checks") or {}
        for name, figures in checks.items():
            if name not in THRESHOLDS or not isinstance(figures, dict) or not isinstance(figures.get("ids"), list):
                continue
            ids = [str(i) for i in figures["ids"]]
            if isinstance(figures.get("count"), int) and figures["count"] > len(ids) or len(ids) >= MAX_IDS:
                capped.add(name)
            for key in ids:
                qid, _, part = key.partition(":")
                flags.setdefault(qid, []).append(f"{name}:{part}" if part else name)
    return flags, sorted(capped)


def _flags(results: Results, out: Path, translator: str, code: str, texts: dict[str, Question],
           english: dict[str, Question], splits: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """id -> the checks (and the string: question, A-D) that flagged a translated question."""
    lang = results.languages.get(code)
    pairs = [(english[i], q) for i, q in texts.items() if i in english]
    if lang is None or not pairs:
        return _manifest_flags(out, translator, code, splits)
    flags: dict[str, list[str]] = {}
    for name, keys in flagged_strings(pairs, lang).items():
        for key in keys:
            qid, _, part = key.partition(":")
            flags.setdefault(qid, []).append(f"{name}:{part}" if part else name)
    return flags, []


def _instructions(out: Path, translator: str, code: str, kinds: Iterable[str]) -> dict[str, dict[str, str]]:
    try:
        lines = artifacts.TranslationSet(out, translator, code).instructions(None) or {}
    except MmluMlError:
        return {}
    return {k: {s: str(v) for s, v in lines[k].items()} for k in kinds if isinstance(lines.get(k), dict)}


def _kinds(series: list[tuple[str, str]]) -> list[str]:
    found = [PROTOCOLS[p] for _, p in series if p in PROTOCOLS]
    return sorted({p.instruction_kind for p in found if p.translated_instruction})


def _question(qid: str, first: dict, english: dict[str, Question], texts: dict[str, dict[str, Question]],
              flags: dict[str, dict[str, list[str]]]) -> dict:
    en = english.get(qid)
    subject = str(first.get("subject") or (en.subject if en else qid.split("/")[0]))
    tr = {}
    for name, qs in texts.items():
        if qid in qs:
            tr[name] = {"q": qs[qid].question, "c": list(qs[qid].choices), "flags": sorted(flags[name].get(qid, []))}
    return {"id": qid, "subject": subject, "category": str(first.get("category") or CATEGORY.get(subject, "")),
            "gold": first.get("gold"), "en": {"q": en.question, "c": list(en.choices)} if en else None,
            "tr": tr, "a": {}}


def build(results: Results) -> list[Page]:
    """A page for every scored language that has predictions, in the leaderboard's order."""
    out = results.out
    configs = read_evaluation_manifest(out)
    series = [s for s in results.series if isinstance(configs.get(f"{s[0]}/{s[1]}"), dict)]
    if not series:
        return []
    splits = _splits(configs)
    english = _english(out, splits)
    pages = []
    for code in language_order(results):
        page = _page(results, code, series, configs, english, splits)
        if page is not None:
            pages.append(page)
    return pages


def _answers(out: Path, series: list[tuple[str, str]], configs: dict, code: str, label) -> dict:
    """(series label, translator or "en") -> id -> prediction row."""
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for model, protocol in series:
        config = configs[f"{model}/{protocol}"]
        for lang in dict.fromkeys(["en", code]):
            for translator, key in _entries(config, lang):
                name = "en" if lang == "en" else translator
                found = latest_rows(predictions_file(out, model, protocol, lang), key)
                if found:
                    rows[(label((model, protocol)), name)] = found
    return rows


def _page(results: Results, code: str, series, configs, english, splits) -> Page | None:
    out = results.out
    answers = _answers(out, series, configs, code, results.series_label)
    if not answers:
        return None
    texts = {} if code == "en" else _texts(code, out, splits)
    translators = list(dict.fromkeys(t for _, t in answers if t != "en")) if code != "en" else []
    translators += [t for t in texts if t not in translators]
    texts = {t: texts[t] for t in translators if t in texts}
    flags, capped = {}, {}
    for t, qs in texts.items():
        flags[t], cut = _flags(results, out, t, code, qs, english, splits)
        if cut:
            capped[t] = cut
    ids = sorted({i for (_, t), rows in answers.items() if code == "en" or t != "en" for i in rows}, key=_id_key)
    questions = []
    for qid in ids:
        first = next(rows[qid] for rows in answers.values() if qid in rows)
        q = _question(qid, first, english, texts, flags)
        for (label, t), rows in answers.items():
            if qid in rows:
                q["a"].setdefault(label, {})[t] = _answer(rows[qid])
        questions.append(q)
    kinds = _kinds(series)
    instructions = {t: lines for t in texts if (lines := _instructions(out, t, code, kinds))}
    models = list(dict.fromkeys(label for label, _ in answers))
    return Page(code, results.language_name(code), models, translators, questions, instructions, capped)
