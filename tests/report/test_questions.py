"""questions.html and questions/<lang>.html in a real headless chromium: the filters count the right questions,
a question's panel shows its texts and letters, data stays text, nothing is fetched, the leaderboard links in."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from support.browser import chromium
from support.results import score_row, write_csv

from mmlu_ml.core.artifacts import TranslationSet
from mmlu_ml.core.checks import flagged_strings
from mmlu_ml.core.languages import load as load_languages
from mmlu_ml.core.paths import predictions_file
from mmlu_ml.core.records import Question
from mmlu_ml.report.browser import Browser
from mmlu_ml.report.stage import run_report

M1 = "tiny-model"
EVIL_MODEL = '<img src=x onerror="window.__pwned = 3">'
EVIL_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
IDS = [f"abstract_algebra/test/{i}" for i in range(3)] + [f"high_school_world_history/test/{i}" for i in range(3)]
GOLD = "ABCDAB"
ENGLISH = [("Find the degree of the extension.", ["0", "4", "2", "6"]),
           ("Let p be a permutation of five elements.", ["8", "2", "24", "120"]),
           ("Which ring is a field?", ["Z_4", "Z_6", "Z_7", "Z_8"]),
           ("Which lemon treaty ended the war?", ["Utrecht", "Paris", "Vienna", "Westphalia"]),
           ("Long passage: " + "The empire's harvest failed again. " * 40, ["famine", "trade", "war", "plague"]),
           ("Who wrote the letter?", ["a monk", "a king", "a merchant", "a soldier"])]
LOCAL = [("Finden Sie den Grad der Erweiterung.", ["0", "4", "2", "6"]),
         ("Sei p eine Permutation von fünf Elementen.", ["8", "2", "24", "120"]),
         ("Welcher Ring ist ein Körper?", ["Z_4", "Z_4", "Z_4", "Z_4"]),  # identical options: flagged
         ("Welcher Zitronenvertrag beendete den Krieg?", ["Utrecht", "Paris", "Wien", "Westfalen"]),
         (EVIL_TEXT, ["Hungersnot", "Handel", "Krieg", "Pest"]),
         ("Wer schrieb den Brief?", ["ein Mönch", "ein König", "ein Kaufmann", "ein Soldat"])]
IMPORTED = [(q.replace("Finden Sie", "Bestimmen Sie"), c) for q, c in LOCAL[:4]] + \
    [("Langer Abschnitt über eine Missernte.", ["Hungersnot", "Handel", "Krieg", "Pest"]),
     ("Wer verfasste den Brief?", ["ein Mönch", "ein König", "ein Kaufmann", "ein Soldat"])]
# predicted letters per (model, text); gold ABCDAB
ANSWERS = {(M1, "en"): "ABCDAA", (M1, "local"): "ACCDBB", (M1, "imp"): "ABCDAB",
           (EVIL_MODEL, "en"): "BBBBBB", (EVIL_MODEL, "local"): "BBBBBB", (EVIL_MODEL, "imp"): "ABBBBB"}
PROBS = [0.1, 0.2, 0.3, 0.4]


def _rows(texts, language):
    return [{"id": qid, "subject": qid.split("/")[0], "split": "test", "language": language, "question": q,
             "choices": c, "answer": g} for qid, (q, c), g in zip(IDS, texts, GOLD)]


def _prediction(qid, gold, predicted, key, translator):
    probs = PROBS if predicted == "D" else [0.7 if x == predicted else 0.1 for x in "ABCD"]
    row = {"id": qid, "subject": qid.split("/")[0], "category": "STEM" if "algebra" in qid else "humanities",
           "gold": gold, "predicted": predicted, "logprobs": {x: math.log(p) for x, p in zip("ABCD", probs)},
           "correct": predicted == gold, "unparsed": False, "error": None}
    if translator:
        row["translator"] = translator
    return {**row, "config_key": key}


def write_fixture(out: Path) -> None:
    """Two models on English and German, German translated twice (local, scored; imp, compared)."""
    TranslationSet(out, "identity", "en").write_split("test", _rows(ENGLISH, "en"), {"checks": {}})
    TranslationSet(out, "local", "de").write_split("test", _rows(LOCAL, "de"), {"checks": {}})
    TranslationSet(out, "local", "de").write_instructions(
        {"gopher": {"abstract_algebra": "Ein Modell beantwortet Fragen zur Algebra.",
                    "high_school_world_history": "Ein Modell beantwortet Fragen zur Weltgeschichte."}})
    TranslationSet(out, "imp", "de").write_split("test", _rows(IMPORTED, "de"), {"checks": {}})
    scores, manifest = [], {}
    for model in (M1, EVIL_MODEL):
        languages = {}
        for lang, translator, label in (("en", None, "en"), ("de", "local", "de"), ("de", "imp", "de@imp")):
            key = f"{len(manifest)}-{label}"
            languages[label] = {"config_key": key, "translator": translator or "source"}
            path = predictions_file(out, model, "gpt4", lang)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:
                for qid, gold, letter in zip(IDS, GOLD, ANSWERS[(model, translator or "en")]):
                    f.write(json.dumps(_prediction(qid, gold, letter, key, translator)) + "\n")
            if label != "de@imp":
                right = sum(a == g for a, g in zip(ANSWERS[(model, translator or "en")], GOLD))
                scores.append(score_row(model, lang, right, n=6, total=6, limit=None))
        manifest[f"{model}/gpt4"] = {"splits": ["test"], "languages": languages}
    write_csv(out / "scores.csv", scores)
    (out / "evaluation.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    chromium()
    out = tmp_path_factory.mktemp("questions")
    write_fixture(out)
    paths = run_report(out, screenshot=False).paths
    with Browser() as browser:
        yield paths, browser


def _open(browser, path: Path, hash_: str = ""):
    return browser.open(path.resolve().as_uri() + hash_)


def _shown(page) -> int:
    return int(page.evaluate("document.getElementById('summary').dataset.shown"))


def _set(page, key: str, value) -> int:
    """Set a filter as a user would (the control's value, then its change/input event); the count after."""
    page.evaluate(f"""(() => {{ const c = document.querySelector('[data-key="{key}"]');
        if (c.type === 'checkbox') c.checked = {json.dumps(bool(value))}; else c.value = {json.dumps(value)};
        c.dispatchEvent(new Event(c.type === 'search' ? 'input' : 'change')); }})()""")
    return _shown(page)


def _accuracy(page) -> dict:
    return {(r[0], r[1]): r[2:] for r in page.evaluate(
        "Array.from(document.querySelectorAll('#accuracy tbody tr')).map(r => Array.from(r.cells, c => c.textContent))")}


def test_the_files_and_their_sizes(board):
    paths, _ = board
    assert {"questions.html", "questions/de.html", "questions/en.html"} <= set(paths)
    assert all(paths[n].stat().st_size < 2 * 2**20 for n in paths if n.startswith("questions"))


def test_filters_change_the_count(board):
    paths, browser = board
    page = _open(browser, paths["questions/de.html"])
    assert _shown(page) == 6
    assert _set(page, "flip", "lost") == 2          # tiny-model, local: q1, q4
    assert _set(page, "flip", "gained") == 2        # tiny-model q5 (both), the other model q0 (imp)
    assert _set(page, "translator", "local") == 1
    assert _set(page, "translator", "") == 2 and _set(page, "model", EVIL_MODEL) == 1
    assert _set(page, "model", "") == 2 and _set(page, "flip", "") == 6
    assert _set(page, "disagree", True) == 3 and _set(page, "disagree", False) == 6
    assert _set(page, "subject", "high_school_world_history") == 3 and _set(page, "subject", "") == 6
    assert _set(page, "category", "humanities") == 3 and _set(page, "category", "") == 6
    english = {qid: q for qid, q in zip(IDS, (Question(i.split("/")[0], "test", int(i.rsplit("/", 1)[1]), q,
                                                          tuple(c), g) for i, (q, c), g in zip(IDS, ENGLISH, GOLD)))}
    german = [Question(i.split("/")[0], "test", int(i.rsplit("/", 1)[1]), q, tuple(c), g, "de")
              for i, (q, c), g in zip(IDS, LOCAL, GOLD)]
    flagged = {k.split(":")[0] for keys in flagged_strings([(english[q.id], q) for q in german],
                                                           load_languages().languages["de"]).values() for k in keys}
    assert IDS[2] in flagged                       # its four options are one
    assert _set(page, "translator", "local") == 6 and _set(page, "flagged", True) == len(flagged)
    assert _set(page, "flagged", False) == 6 and _set(page, "translator", "") == 6
    assert _set(page, "q", "zitronenvertrag") == 1          # German, either case
    assert _set(page, "q", "lemon treaty") == 1              # English
    assert _set(page, "q", "verfasste") == 1                 # the imported translation only
    assert _set(page, "q", "<script>") == 1 and _set(page, "q", "") == 6
    _set(page, "model", M1)
    _set(page, "translator", "local")
    assert _accuracy(page) == {(M1, "local"): ["66.7% (4/6)", "83.3%", "2", "1"]}
    _set(page, "subject", "abstract_algebra")
    assert _accuracy(page) == {(M1, "local"): ["66.7% (2/3)", "100.0%", "1", "0"]}
    assert page.errors() == []


def test_a_question_link_opens_its_panel_with_the_right_texts(board):
    paths, browser = board
    page = _open(browser, paths["questions/de.html"], "#flip=lost")
    assert _shown(page) == 2
    page.evaluate(f"location.hash = {json.dumps(IDS[3])}")     # not a lost one: the filters give way
    assert page.evaluate("document.activeElement.closest('details').id") == IDS[3]
    panel = f"document.getElementById({json.dumps(IDS[3])})"
    assert page.evaluate(f"{panel}.open") is True
    assert page.evaluate(f"{panel}.querySelector('.gold-letter').textContent") == "D"
    blocks = page.evaluate(f"""Array.from({panel}.querySelectorAll('section.block')).map(b => [b.dataset.translator,
        b.querySelector('.question').textContent, Array.from(b.querySelectorAll('ol.opts li'), li => li.textContent),
        b.querySelector('ol.opts li.gold').textContent])""")
    assert blocks[0] == ["en", ENGLISH[3][0], [f"{x}) {c}" for x, c in zip("ABCD", ENGLISH[3][1])], "D) Westphalia"]
    assert [b[0] for b in blocks] == ["en", "local", "imp"] and blocks[1][1] == LOCAL[3][0]
    assert blocks[2][3] == "D) Westfalen"
    instr = page.evaluate(f"{panel}.querySelector('section[data-translator=local] .instr').textContent")
    assert instr == "Instruction (gopher): Ein Modell beantwortet Fragen zur Weltgeschichte."
    rows = page.evaluate(f"""Array.from({panel}.querySelectorAll('table.answers tbody tr')).map(r =>
        [r.dataset.model, r.dataset.text, r.cells[2].textContent, r.cells[4].textContent, r.cells[5].textContent])""")
    assert rows == [[M1, "en", "D", "right", ""], [M1, "local", "D", "right", "same as English"],
                    [M1, "imp", "D", "right", "same as English"], [EVIL_MODEL, "en", "B", "wrong", ""],
                    [EVIL_MODEL, "local", "B", "wrong", "same as English"], [EVIL_MODEL, "imp", "B", "wrong",
                                                                            "same as English"]]
    probs = page.evaluate(f"{panel}.querySelector('table.answers tbody tr td.prob').textContent")
    assert probs.split() == ["A", "10.0%", "B", "20.0%", "C", "30.0%", "D", "40.0%"]
    page.evaluate(f"location.hash = {json.dumps(IDS[1])}")
    lost = page.evaluate(f"""Array.from(document.getElementById({json.dumps(IDS[1])})
        .querySelectorAll('table.answers tbody tr')).map(r => r.cells[5].textContent)""")
    assert lost[1] == "flipped: lost" and lost[2] == "same as English"
    assert page.errors() == []


def test_data_stays_text_and_nothing_is_fetched(board):
    paths, browser = board
    for name in ("questions/de.html", "questions/en.html", "questions.html", "leaderboard.html"):
        page = _open(browser, paths[name], f"#{IDS[4]}" if name == "questions/de.html" else "")
        assert page.evaluate("typeof window.__pwned") == "undefined", name
        assert page.errors() == [], name
        assert all(url.startswith(("file:", "data:")) for url in page.requests()), name
    page = _open(browser, paths["questions/de.html"], f"#{IDS[4]}")
    assert page.evaluate(f"document.getElementById({json.dumps(IDS[4])}).querySelector('section[data-translator=local]"
                         " .question').textContent") == EVIL_TEXT
    assert EVIL_MODEL in page.evaluate("document.getElementById('f-model').textContent")
    assert page.evaluate("document.querySelectorAll('img, script:not([id=data])').length") == 1  # our script only


def test_the_leaderboard_opens_a_language_on_its_lost_questions(board):
    paths, browser = board
    page = _open(browser, paths["leaderboard.html"])
    links = page.evaluate("Array.from(document.querySelectorAll('#by-language a.questions'), a => a.href)")
    german = next(link for link in links if "/questions/de.html" in link)
    assert german.endswith("questions/de.html#flip=lost")
    opened = browser.open(german)
    assert _shown(opened) == 2 and opened.evaluate("document.getElementById('f-flip').value") == "lost"
    index = _open(browser, paths["questions.html"], "#lang=de&flip=gained")   # the index forwards
    assert index.evaluate("location.pathname").endswith("/questions/de.html")
    assert _shown(index) == 2 and index.errors() == []
