"""What a translated text shows, read by the translate stage (to retry a visibly wrong translation) and by the
checks every stage runs (`core/checks.py`): formulas and quantities kept as they are, loops, answer words, option
letters, phrases copied from the few-shot examples. Below the stages because checks run in evaluate and import too.
A change here changes what the LLM translators send or keep: bump translate/llm/prompt.py's PROMPT_VERSION.
"""

from __future__ import annotations

import re
import unicodedata

from . import examples as llm_examples
from .languages import Language

# A chemical formula (HCl, CO2, Al(NO3)3): element symbols with counts, several elements or a digit. Models
# "translate" these into names (HCl -> 盐酸) or subscripts (H₂SO₃); the references and Azure keep them as is.
_FORMULA = re.compile(r"(?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+")


# A quantity: a number and an SI-style unit symbol (40 J, 6.0 J, 200Ω, 9.8 m/s^2). Models expand or
# mistranslate the symbol ("40 J" -> "40 jours"); symbols are the same in every language.
_UNIT = r"(?:[kMGTmµμunp]?(?:J|W|V|A|N|Pa|Hz|m|s|g|L|K|C|eV|Ω|T|F|H|mol|rad|Wb|dB|atm|bar)|°C|°F|°|%|min|h)"
_QUANTITY = re.compile(rf"[-+−]?\d[\d.,]*\s?{_UNIT}(?:\s?[/·]\s?{_UNIT})*(?:\^-?\d+)?")


def keep_as_is(text: str) -> bool:
    """True for strings an LLM must not be asked to translate: chemical formulas and quantities."""
    t = text.strip()
    if _QUANTITY.fullmatch(t):
        return True
    return bool(_FORMULA.fullmatch(t)) and (any(c.isdigit() for c in t) or bool(re.search(r"[A-Z][a-z]", t))
                                             and sum(c.isupper() for c in t) >= 2)


# A loop: >= 4 back-to-back copies of a unit of 2-60 characters, or >= 3 of a unit of 4 or more (a model cut
# off by the length cap or the token guard often leaves three copies and a stub: "ముంచి ముంచి ముంచి").
_LOOPS = (re.compile(r"(.{4,60}?)(?:\s*\1){2,}", re.S), re.compile(r"(.{2,60}?)(?:\s*\1){3,}", re.S))


def _wordlike(unit: str) -> bool:
    """Has a letter, digit or combining mark (Indic vowel signs count): not dots, dashes or blanks."""
    return any(unicodedata.category(c)[0] in "LMN" for c in unit)


def find_loop(text: str, source_text: str = "") -> re.Match | None:
    """The first loop (see _LOOPS) that the source does not have."""
    for pattern in _LOOPS:
        for m in pattern.finditer(text):
            unit = m.group(1)
            if not _wordlike(unit) or m.group(0) in source_text or (unit * 2) in source_text:
                continue
            return m
    return None


# What a model writes when it answers: "The answer is", "Answer: C", "Explanation:", "Step 1", \boxed, bold.
ANSWER_WORDS = re.compile(r"\b(?:the )?(?:correct )?answer(?: is|\s*[:：])|\b(?:explanation|solution)\s*[:：]"
                          r"|\bstep 1\b|\\boxed|\*\*", re.I)
# Options listed or picked: "B)" or "(B)" anywhere, "B." / "B:" opening a line (not "z. B." inside one).
LETTER_LIST = re.compile(r"(?:^|[\s(])[A-D]\)|(?:^|\n)\s*[A-D][.:](?=\s)", re.M)
QUESTION_MARKS = "?？؟;;՞፧"


def _grams(text: str, chars: bool) -> set[str]:
    """Word 4-grams of at least 20 characters (character 10-grams for scripts written without spaces),
    lower-cased: long enough that common phrasing ("Finden Sie die") does not count as a copy."""
    if chars:
        t = "".join(text.split()).lower()
        return {t[i:i + 10] for i in range(len(t) - 9)}
    words = [w.strip(".,;:?!¿¡()\"'«»“”’") for w in text.lower().split()]
    grams = (" ".join(words[i:i + 4]) for i in range(len(words) - 3))
    return {g for g in grams if len(g) >= 20}


_STOP = frozenset("a an the of and or to in on at by for is are was were be it its this that these those "
                  "what which who how".split())


def _english_pairs(text: str) -> set[str]:
    """Word pairs of an English text with at least one content word ("air resistance", "none of")."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {f"{a} {b}" for a, b in zip(words, words[1:]) if not (a in _STOP and b in _STOP)}


def copies_example(output: str, source: str, target: Language) -> bool:
    """The output repeats a phrase of a few-shot example translation while its source shares no phrase with
    that example's English: the model copied the prompt (a question about exploitation ending "... signed
    under duress") instead of translating."""
    chars = target.script in {"Hans", "Hant", "Jpan", "Thai"}
    have = _grams(output, chars)
    src = _english_pairs(source)
    for english, translated in llm_examples.pairs(target.code):
        if have & _grams(translated, chars) and not src & _english_pairs(english):
            return True
    return False
