"""Automatic checks of a translated split: what machine translation of MMLU is known to get wrong.

`check_language(pairs, target)` takes (English question, translated question) pairs and returns JSON-able
figures per check: `share` of what it looked at, `count`, the offending `ids` (capped), and `failed`, the checks
whose share is over THRESHOLDS. `flagged_strings` gives every flagged string, for benchmarks and tests.
String keys are `<question id>:<field>`, field one of question, A, B, C, D.

Checks, and why:
  not_target_language  lingua (built for English, the target and the languages sharing its script) or, where
                       lingua lacks the language, its script: the string is not in the target language
  identical_options    two options that differed in English became one text (the question is broken)
  spans_lost           a formula, code or blank (protect.spans) did not come back verbatim
  length_ratio         far longer or shorter than the language's usual length against English
  repeated_question    one translated question text under ids whose English questions differ
  echoed_english       English left as it was: the same text, or mostly the source's own words
  loops                a unit repeated back to back, or a text made of few distinct n-grams
  answered             the model answered or explained instead of translating: a question mark lost, an answer
                       word, option letters, extra lines, a comment on the translation, a gloss, a task's
                       result, or an option's text that the source did not have
  copied_example       a phrase of the LLM translators' few-shot examples the source gives no reason for
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from functools import lru_cache

from .languages import Language, language_name
from .protect import is_untranslatable, spans
from .records import Question
from .text import ANSWER_WORDS, LETTER_LIST, QUESTION_MARKS, copies_example, find_loop, keep_as_is

FIELDS = ("question", "A", "B", "C", "D")
THRESHOLDS = {  # share of what each check looks at, above which `--strict` fails the language
    "not_target_language": 0.10,
    "identical_options": 0.02,
    "spans_lost": 0.05,
    "length_ratio": 0.05,
    "repeated_question": 0.01,
    "echoed_english": 0.05,
    "loops": 0.01,
    "answered": 0.02,
    "copied_example": 0.01,
}
MAX_IDS = 20
MIN_LETTERS_DETECT = 20  # below this, language identification guesses
# Translated letters / English letters, by script (typical of MMLU; the batch median refines it).
_RATIO = {"Hans": 0.33, "Hant": 0.33, "Jpan": 0.5, "Kore": 0.5}
_NO_SPACES = {"Hans", "Hant", "Jpan", "Thai"}
_SCRIPT_NAMES = {  # ISO 15924 -> the word unicodedata uses in character names
    "Latn": "LATIN", "Cyrl": "CYRILLIC", "Grek": "GREEK", "Arab": "ARABIC", "Hebr": "HEBREW", "Deva": "DEVANAGARI",
    "Beng": "BENGALI", "Telu": "TELUGU", "Guru": "GURMUKHI", "Thai": "THAI", "Ethi": "ETHIOPIC", "Hans": "CJK",
    "Hant": "CJK", "Jpan": "CJK|HIRAGANA|KATAKANA", "Kore": "HANGUL",
}
# English words a translation has no reason to keep: their presence means English was echoed, not a name or a term.
_FUNCTION_WORDS = frozenset(
    "the of and which what following is are was were that this these those with for from does did has have "
    "not can will would should could its their there than then when where who whom whose why how into about "
    "between because been being".split())


_NOT_LETTER = re.compile(r"[\W\d_]+")
LOOP_TAIL = 300  # characters at the end of a text searched for a loop: models loop until they are cut off


@lru_cache(maxsize=1 << 16)
def _letters(text: str) -> int:
    return len(_NOT_LETTER.sub("", text))


def _outside_spans(text: str) -> str:
    for span in spans(text):
        text = text.replace(span, " ")
    return text


@lru_cache(maxsize=4096)
def _char_script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else ""


def script_share(text: str, script: str) -> float:
    """Share of the letters of `text` written in `script` (1.0 when it has no letters)."""
    want = _SCRIPT_NAMES.get(script)
    letters = [ch for ch in text if ch.isalpha()]
    if not want or not letters:
        return 1.0
    words = want.split("|")
    return sum(1 for ch in letters if _char_script(ch) in words) / len(letters)


@lru_cache(maxsize=16)
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, Language as Lingua, LanguageDetectorBuilder
    languages = []
    for code in codes:
        try:
            languages.append(Lingua.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except AttributeError:
            continue
    return LanguageDetectorBuilder.from_languages(*languages).build() if len(languages) > 1 else None


def _lingua_has(iso: str) -> bool:
    from lingua import IsoCode639_1
    return hasattr(IsoCode639_1, iso.upper())


_LATIN_USUAL = ("de", "es", "fr", "it", "nl", "pt")  # what a model writes when it misses a Latin-script target


def _detection_codes(target: Language) -> tuple[str, ...]:
    """The languages in play: English, the target, and what a translation in the wrong language would most
    likely be: the table's languages sharing a non-Latin script (Hindi vs Marathi, Urdu vs Arabic), or the
    big Latin-script languages. Few languages keep lingua's first load (its models) to seconds."""
    from .languages import load
    if target.script == "Latn":
        same = list(_LATIN_USUAL)
    else:
        same = [lang.iso for lang in load().languages.values() if lang.script == target.script]
    return tuple(sorted({"en", target.iso, *same}))


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{3,}", text.lower())


def _echoed(english: str, translated: str) -> bool:
    """English kept: the same text with real English in it, or a text whose words are mostly the source's own
    with English function words among them (cognates and names alone are no echo)."""
    en_words, tr_words = set(_words(english)), _words(translated)
    function = sum(w in _FUNCTION_WORDS and w in en_words for w in tr_words)
    if translated.strip().casefold() == english.strip().casefold():
        return function >= 1 or sum(1 for w in re.findall(r"\b[a-z]{4,}\b", english)) >= 3
    overlap = sum(w in en_words for w in tr_words) / len(tr_words) if tr_words else 0.0
    return len(tr_words) >= 4 and overlap >= 0.5 and function >= 2


def _without_source_words(translated: str, english: str) -> str:
    """`translated` less the words it shares with the English (names, symbols, variables kept as they were)."""
    keep = set(re.findall(r"\w+", english))
    return re.sub(r"\w+", lambda m: " " if m.group() in keep else m.group(), translated)


def _units(text: str, script: str) -> list[str]:
    return [ch for ch in text if not ch.isspace()] if script in _NO_SPACES else text.split()


def _few_distinct(text: str, source: str, script: str) -> bool:
    """A long text made of few distinct n-grams (a loop with variations) that its source is not."""
    n = 6 if script in _NO_SPACES else 3
    units = _units(text, script)
    if len(units) < 10 * n:
        return False
    grams = [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]
    src_units = _units(source, "Latn")
    src_grams = [tuple(src_units[i:i + 3]) for i in range(len(src_units) - 2)]
    src_distinct = len(set(src_grams)) / len(src_grams) if src_grams else 1.0
    return len(set(grams)) / len(grams) < 0.5 and src_distinct >= 0.8


def _strings(pairs: list[tuple[Question, Question]]):
    for src, tr in pairs:
        for field, english, translated in zip(FIELDS, (src.question, *src.choices), (tr.question, *tr.choices)):
            yield f"{src.id}:{field}", field, english, translated, src, tr


class _Strings:
    """The per-string checks for one target language, run string by string; language detection waits for
    `finish`, which runs it on all the strings at once (lingua is far faster in bulk)."""

    def __init__(self, target: Language, expected: float):
        self.target, self.expected = target, expected
        self.is_english = target.iso == "en"
        self.detector = None if self.is_english else _detector(_detection_codes(target))
        self.supported = _lingua_has(target.iso)
        self.flags: dict[str, list[str]] = defaultdict(list)
        self._detect: list[tuple[str, str]] = []

    def check(self, key: str, field: str, english: str, translated: str, src=None, tr=None) -> None:
        flags, target, expected = self.flags, self.target, self.expected
        plain_en, plain_tr = _outside_spans(english), _outside_spans(translated)
        if any(span not in translated for span in spans(english)):
            flags["spans_lost"].append(key)
        if _letters(english) >= 20 and translated:  # letters, so formulas and numbers kept as is weigh nothing
            ratio = _letters(translated) / _letters(english)
            if ratio > 2.5 * expected or ratio < expected / 2.5:
                flags["length_ratio"].append(key)
        elif _letters(translated) > 4 * expected * _letters(english) + 40:
            flags["length_ratio"].append(key)
        if find_loop(translated[-LOOP_TAIL:], english) or _few_distinct(translated, english, target.script):
            flags["loops"].append(key)
        if not self.is_english:
            if _echoed(plain_en, plain_tr):
                flags["echoed_english"].append(key)
            own = _without_source_words(plain_tr, plain_en)  # names and terms kept from the source say nothing
            if target.script != "Latn" and _letters(own) >= 8 and script_share(own, target.script) < 0.5:
                flags["not_target_language"].append(key)
            elif (self.detector is not None and _letters(own) >= MIN_LETTERS_DETECT
                    and _letters(plain_en) >= MIN_LETTERS_DETECT):
                self._detect.append((key, plain_tr))
        if _answered(field, english, translated, src, tr, target):
            flags["answered"].append(key)
        if not self.is_english and copies_example(translated, english, target):
            flags["copied_example"].append(key)

    def finish(self) -> dict[str, list[str]]:
        if self._detect:
            assert self.detector is not None  # check() fills _detect only when there is a detector
            found = self.detector.detect_languages_in_parallel_of([t for _, t in self._detect])
            for (key, _), lang in zip(self._detect, found):
                code = lang.iso_code_639_1.name.lower() if lang is not None else None
                if code is not None and code != self.target.iso and (self.supported or code == "en"):
                    self.flags["not_target_language"].append(key)
            self._detect = []
        return self.flags


def flagged_strings(pairs: list[tuple[Question, Question]], target: Language) -> dict[str, list[str]]:
    """Every flagged key per check (question-level checks flag the question's `:question` key)."""
    strings = [s for s in _strings(pairs) if not is_untranslatable(s[2])]
    ratios = [_letters(t) / _letters(e) for _, _, e, t, _, _ in strings if _letters(e) >= 20 and t]
    default = _RATIO.get(target.script, 1.0)
    expected = min(max(statistics.median(ratios), default / 1.6), default * 1.6) if len(ratios) >= 20 else default
    checker = _Strings(target, expected)
    for key, field, english, translated, src, tr in strings:
        checker.check(key, field, english, translated, src, tr)
    flags = checker.finish()
    _question_level(pairs, flags)
    return {name: sorted(set(keys)) for name, keys in flags.items()}


def _answered(field: str, english: str, translated: str, src: Question, tr: Question, target: Language) -> str | None:
    """Why the translation looks like an answer or an explanation rather than a translation, or None."""
    if not translated.strip():
        return None
    words = re.compile(rf"\b{re.escape(target.answer_word)}\s*[:：]", re.I) if target.answer_word else None
    for name, pattern in (("answer words", ANSWER_WORDS), ("option letters", LETTER_LIST), ("answer word", words)):
        if pattern is not None and pattern.search(translated) and not pattern.search(english):
            return name
    if translated.count("\n") >= english.count("\n") + 2:
        return "extra lines"
    if _talks_about_translating(translated, english, target):
        return "comments on the translation"
    words_needed = 1 if keep_as_is(english) else 2  # a formula needs no gloss at all: "BaOH (Bromohydroxid)"
    if "(" not in english and len(english.split()) <= 3 and any(
            len(re.findall(r"[^\W\d_]{3,}", g)) >= words_needed and g.strip() not in english
            for g in _PARENS.findall(translated)):
        return "adds a gloss"  # "BaO (baryum oxyde)": an explanation beside a short option
    if field == "question":
        if english.rstrip().endswith("?") and not any(m in translated for m in QUESTION_MARKS):
            return "question mark lost"
        numbers = _numbers(english)
        if _TASK.match(english) and numbers and _numbers(translated) - numbers:
            return "new number"  # a task done, not translated: "Find the order of Z_6/<3>" -> "... ist 2."
        for en_opt, tr_opt in zip(src.choices, tr.choices):  # the question now states one option's text
            if (len(tr_opt.strip()) >= 12 and " " in tr_opt.strip() and tr_opt.strip() in translated
                    and en_opt.strip() not in english and tr_opt.strip() not in english):
                return "states an option"
    return None


_NUMBER = re.compile(r"\d+")
_TASK = re.compile(r"\s*(?:find|compute|calculate|solve|determine|evaluate|simplify)\b", re.I)
_DIGIT_GROUPING = re.compile(r"(?<=\d)[,.'’\u202f\u00a0](?=\d)|(?<=\d) (?=\d{3}\b)")


def _numbers(text: str) -> set[str]:
    """The numbers of a text as ASCII digit strings, grouping and decimal marks ignored (1,000 = 1 000 = 1000;
    3.5 = 3,5) and any script's digits read (১২ = 12)."""
    return {"".join(str(unicodedata.digit(c, 0)) for c in n) for n in _NUMBER.findall(_DIGIT_GROUPING.sub("", text))}
_PARENS = re.compile(r"[(（]([^()（）]*)[)）]")


def _talks_about_translating(translated: str, english: str, target: Language) -> bool:
    """The output speaks about the translation ("'Ba' en français est ...", "in German", "translated as"):
    a comment on the text, not its translation. Sources that speak of translating or of the language are
    left alone."""
    if re.search(r"translat|interpret", english, re.I) or re.search(rf"\b{re.escape(target.name)}", english, re.I):
        return False
    names = {n for n in (target.name, target.native, language_name(target)) if len(n) >= 4}
    for name in names:  # the whole word: "Deutsch", not "deutschen" or "Deutsch-Französischer"
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", translated, re.I):
            return True
    return bool(re.search(r"translat|traduc|übersetz", translated, re.I))


def _question_level(pairs: list[tuple[Question, Question]], flags: dict[str, list[str]]) -> None:
    by_text: dict[str, list[tuple[Question, Question]]] = defaultdict(list)
    for src, tr in pairs:
        en = [c.strip().casefold() for c in src.choices]
        out = [c.strip().casefold() for c in tr.choices]
        if any(out[i] == out[j] and en[i] != en[j] for i in range(4) for j in range(i + 1, 4)):
            flags["identical_options"].append(f"{src.id}:question")
        by_text[" ".join(tr.question.split()).casefold()].append((src, tr))
    for group in by_text.values():
        if len({" ".join(src.question.split()).casefold() for src, _ in group}) > 1:
            flags["repeated_question"] += [f"{src.id}:question" for src, _ in group]


# Words of a subject's name that a faithful back-translation may drop or render otherwise: its level ("high
# school" as "secondary school") and "human" ("human aging" as "aging"). Then the topic words that English
# writes other ways.
_LEVEL_WORDS = frozenset({"high", "school", "college", "professional", "elementary", "and", "human"})
_TOPIC_SYNONYMS = {
    "us": ("US", "U.S.", "USA", "American", "America", "United States"),
    "miscellaneous": ("miscellaneous", "various", "general", "diverse", "varied", "assorted", "mixed"),
    "law": ("law", "legal"),
    "aging": ("aging", "ageing", "old age"),
    "mathematics": ("mathemat", "math"),
}


def names_subject(back: str, subject: str) -> bool:
    """Whether a line's back-translation into English names `subject` (`high_school_geography`): every topic
    word of its name is there, as a stem (its first letters, all but the last three of a long word: "geograph"
    in "geographic"), or as one of its usual other forms ("US" as "American")."""
    text = back.casefold()
    for word in subject.split("_"):
        if word in _LEVEL_WORDS:
            continue
        forms = _TOPIC_SYNONYMS.get(word, (word[:max(4, len(word) - 3)] if len(word) > 4 else word,))
        if word == "us":  # the pronoun is not the country: whole words, as written
            if not any(re.search(rf"(?<![\w.]){re.escape(f)}(?!\w)", back) for f in forms):
                return False
        elif not any(re.search(rf"(?<!\w){re.escape(f.casefold())}", text) for f in forms):
            return False
    return True


_FRAME_STOPWORDS = frozenset("a an the of about and by on to in for".split())


def _stem_found(word: str, text: str) -> bool:
    stem = word[:max(4, len(word) - 3)] if len(word) > 4 else word
    return re.search(rf"(?<!\w){re.escape(stem)}", text) is not None


def keeps_frame(back: str, english: str, subject: str) -> bool:
    """Whether a line's back-translation keeps a third or more of the words its English says beside the subject
    ("A highly knowledgeable ... model answers multiple-choice questions"): a line the model rewrote into another
    instruction ("follow the instructions and give a precise answer") names its subject and still fails, while one
    that drops a word or two ("responds to questions about astronomy") passes."""
    text = back.casefold()
    subject_words = set(subject.split("_"))
    words = {w for w in re.findall(r"[a-z]+", english.casefold())
             if w not in _FRAME_STOPWORDS and w not in subject_words and len(w) >= 3}
    return not words or sum(_stem_found(w, text) for w in words) >= len(words) / 3


def check_lines(lines: dict[str, tuple[str, str, str | None, str]], target: Language) -> dict[str, list]:
    """The checks of a string on translated instruction lines (`key -> (English, translation, its
    back-translation into English or None, subject)`), plus `subject_named` (`names_subject`) and `frame_lost`
    (`keeps_frame`) on the back-translation (a line without one is judged on neither). Returns key -> the checks
    it fails, for the lines that fail one."""
    checker = _Strings(target, _RATIO.get(target.script, 1.0))
    for key, (english, translated, _, _) in lines.items():
        checker.check(key, "instruction", english, translated)
    flags = checker.finish()
    for key, (english, _, back, subject) in lines.items():
        if back is not None and not names_subject(back, subject):
            flags["subject_named"].append(key)
        if back is not None and not keeps_frame(back, english, subject):
            flags["frame_lost"].append(key)
    out: dict[str, list] = defaultdict(list)
    for check, keys in flags.items():
        for key in dict.fromkeys(keys):
            out[key].append(check)
    return dict(out)


_QUESTION_CHECKS = {"identical_options", "repeated_question"}


def _question_ids(keys) -> set[str]:
    """The questions of string keys (`<id>:<field>`)."""
    return {k.rsplit(":", 1)[0] for k in keys}


def flagged_questions(pairs: list[tuple[Question, Question]], target: Language) -> set[str]:
    """The ids of the questions with at least one string (question or option) that a check flagged."""
    return _question_ids(k for keys in flagged_strings(pairs, target).values() for k in keys)


def check_language(pairs: list[tuple[Question, Question]], target: Language) -> dict:
    """Figures per check for one language's translated questions, and the checks over their thresholds."""
    flags = flagged_strings(pairs, target)
    n_questions = len(pairs)
    n_strings = sum(1 for s in _strings(pairs) if not is_untranslatable(s[2]))
    n_spans = sum(1 for s in _strings(pairs) if spans(s[2]))
    out: dict = {"questions": n_questions, "strings": n_strings,
                 "detector": "lingua " + ",".join(_detection_codes(target)) if _lingua_has(target.iso)
                 else "script + lingua English only"}
    failed = []
    for name, threshold in THRESHOLDS.items():
        keys = flags.get(name, [])
        if name in _QUESTION_CHECKS:
            keys = sorted(_question_ids(keys))
        denominator = n_questions if name in _QUESTION_CHECKS else (n_spans if name == "spans_lost" else n_strings)
        share = len(keys) / denominator if denominator else 0.0
        out[name] = {"share": round(share, 4), "count": len(keys), "threshold": threshold, "ids": keys[:MAX_IDS]}
        if share > threshold:
            failed.append(name)
    # what a reader of a score needs in one figure: the share of strings (and questions) any check flagged
    flagged = {k for found in flags.values() for k in found}
    out["flagged"] = {"share": round(len(flagged) / n_strings, 4) if n_strings else 0.0, "count": len(flagged),
                      "questions": len(_question_ids(flagged))}
    out["failed"] = failed
    return out
