"""Prompts and reply parsing shared by the LLM translators (`openai` over HTTP, `local` in llama.cpp).

Two shapes of request:
  batch   several strings as a JSON object {"1": "...", "2": "..."}; the reply must be a JSON object with
          exactly those keys, in that order. Ids make a shifted or dropped item visible instead of silently
          misaligning translations (the failure mode of "one string per line" prompts).
  single  one string per chat call with few-shot turns; what a small local model does best.
Everything here that changes an output is covered by PROMPT_VERSION, which goes into the fingerprint and so
into the cache key: change a prompt, bump the version.
"""

from __future__ import annotations

import json
import re
import unicodedata

from ...core import examples as llm_examples, protect
from ...core.languages import Language, language_name
from ...core.text import ANSWER_WORDS, LETTER_LIST, QUESTION_MARKS, copies_example, find_loop

PROMPT_VERSION = "p8"  # also covers core/text.py and core/examples.py, which shape what is sent and kept


class ReplyError(ValueError):
    """A reply that cannot be trusted as a translation of its request (retried, then reported)."""


def instructions(source: Language, target: Language, batch: bool) -> str:
    src, tgt = language_name(source), language_name(target)
    what = ("The user sends a JSON object whose values are texts from a multiple-choice exam."
            if batch else "The user sends one text from a multiple-choice exam: a question or an answer option.")
    rules = (
        f"You are a professional translator from {src} into {tgt}. {what} "
        f"Translate the text into {tgt} ({target.native}), faithfully and completely: every sentence, "
        "nothing left out. "
        "Never answer, solve, explain or comment on it: a question stays a question, and an unfinished "
        "sentence stays unfinished. "
        "Keep formulas, LaTeX, code, numbers, units, symbols and blanks such as ___ exactly as they are. "
        "Keep proper names that have no usual translation."
    )
    if batch:
        return rules + (" Reply with one JSON object with exactly the same keys in the same order, each mapped "
                         "to the translation of its value, and nothing else.")
    return rules + f" Reply with the {tgt} translation only."


def insisting(text: str, target: Language) -> str:
    """The text with the task restated next to it: the second attempt after a visibly wrong first one."""
    return f"Translate into {language_name(target)}, completely, without answering or explaining:\n{text}"


def single_messages(text: str, source: Language, target: Language, insist: bool = False,
                    context: tuple[tuple[str, str], ...] = ()) -> list[dict]:
    """System instructions, the language's few-shot turns, then the text (restated as a task if `insist`).
    `context` (source texts and their translations: glossary terms, an option's question) goes in as more
    exchanges just before the text. Only the last turns depend on the text, so llama.cpp reuses the rest from
    its KV cache."""
    messages = [{"role": "system", "content": instructions(source, target, batch=False)}]
    pairs = list(llm_examples.pairs(target.code)) if source.code == "en" else []
    for english, translated in pairs + list(context):
        messages += [{"role": "user", "content": english}, {"role": "assistant", "content": translated}]
    messages.append({"role": "user", "content": insisting(text, target) if insist else text})
    return messages


def _as_object(texts: list[str]) -> str:
    return json.dumps({str(i + 1): t for i, t in enumerate(texts)}, ensure_ascii=False, indent=0)


def batch_messages(texts: list[str], source: Language, target: Language) -> list[dict]:
    """System instructions, one few-shot exchange in the JSON shape (when we have examples), then the batch."""
    messages = [{"role": "system", "content": instructions(source, target, batch=True)}]
    examples = llm_examples.pairs(target.code) if source.code == "en" else []
    if examples:
        messages += [{"role": "user", "content": _as_object([e for e, _ in examples])},
                     {"role": "assistant", "content": _as_object([t for _, t in examples])}]
    messages.append({"role": "user", "content": _as_object(texts)})
    return messages


_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?```\s*$", re.S)


def parse_batch(reply: str | None, n: int) -> list[str]:
    """The n translations of a batch reply, in request order; ReplyError when the reply is not exactly that."""
    if not reply or not reply.strip():
        raise ReplyError("empty reply")
    body = reply.strip()
    fenced = _FENCE.match(body)
    if fenced:  # models often wrap JSON in a code fence even when told not to
        body = fenced.group(1)
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ReplyError(f"reply is not JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ReplyError("reply is not a JSON object")
    expected = [str(i + 1) for i in range(n)]
    keys = list(obj)
    if keys != expected:
        missing = [k for k in expected if k not in obj]
        extra = [k for k in keys if k not in expected]
        what = (f"missing ids {missing[:5]}" if missing else "") + (f" extra ids {extra[:5]}" if extra else "")
        raise ReplyError(what.strip() or "ids out of order")
    out = []
    for k in expected:
        value = obj[k]
        if not isinstance(value, str) or not value.strip():
            raise ReplyError(f"id {k} has no translation")
        out.append(value)
    return out


_PREFIX = re.compile(r"^\s*(?:translation|traduction|übersetzung|翻译|译文)\s*[:：]\s*", re.I)


def clean_single(reply: str, source_text: str) -> str:
    """The translation in a single reply: wrappers a model adds (quotes, fences, "Translation:") removed."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced and "```" not in source_text:
        text = fenced.group(1).strip()
    text = _PREFIX.sub("", text)
    for left, right in (('"', '"'), ("“", "”"), ("«", "»"), ("「", "」")):
        if (len(text) > 1 and text.startswith(left) and text.endswith(right)
                and not source_text.strip().startswith(left)):
            text = text[len(left):-len(right)].strip()
    if "$" not in source_text:
        text = text.replace("$", "")  # math markup the source never had ("3 x = 84" -> "$3x = 84$")
    if unicodedata.normalize("NFKC", text) == unicodedata.normalize("NFKC", source_text.strip()):
        text = source_text.strip()  # CO₂ for CO2, full-width for ASCII: the source's own form is the translation
    # keep the source's edge whitespace: options such as " 5" must not change shape
    lead = source_text[:len(source_text) - len(source_text.lstrip())]
    trail = source_text[len(source_text.rstrip()):]
    return lead + text + trail


def trim_loop(text: str, source_text: str = "") -> str:
    """`text` with a repetition loop cut back to one copy of its unit (what the model meant before it looped)."""
    m = find_loop(text, source_text)
    while m:
        text = (text[:m.start()] + m.group(1)).rstrip()
        m = find_loop(text, source_text)
    return text


# Non-space characters of a translation per English one, by script (medians over Okapi's MMLU val).
_CHAR_RATIO = {"Hans": 0.34, "Hant": 0.34, "Jpan": 0.5, "Kore": 0.5}


def defects(output: str, source: str, target: Language) -> list[str]:
    """What is visibly wrong with one translation, judged against its source alone: a cheap test that tells
    the local translator when a second attempt is worth its time."""
    found = []
    if any(span not in output for span in protect.spans(source)):
        found.append("span lost")
    if source.rstrip().endswith("?") and not any(m in output for m in QUESTION_MARKS):
        found.append("question mark lost")
    if any(p.search(output) and not p.search(source) for p in (ANSWER_WORDS, LETTER_LIST)):
        found.append("answer words")
    n_src, n_out = len("".join(source.split())), len("".join(output.split()))
    expected = _CHAR_RATIO.get(target.script, 1.0)
    if n_src >= 60 and n_out < 0.45 * expected * n_src:
        found.append("too short")
    if n_out > 2.5 * expected * n_src + 30:
        found.append("too long")
    if find_loop(output[-300:], source):  # models loop until cut off: the tail shows it, and costs little
        found.append("loop")
    if output.strip() == source.strip() and (len(re.findall(r"[A-Za-z]{3,}", source)) >= 3
                                             or re.search(r"\b[a-z]{3,}\b", source)):
        found.append("english")  # kept as it was: several words, or a common (lower-case) word, not a name
    if copies_example(output, source, target):
        found.append("copied example")
    return found


# Output tokens allowed per input token: scripts the tokenizers split finely need more room.
_DENSE_SCRIPTS = {"Beng", "Telu", "Deva", "Guru", "Thai", "Ethi", "Taml", "Knda", "Mlym", "Gujr", "Orya", "Sinh"}


def token_budget(n_source_tokens: int, target: Language) -> int:
    """A length cap proportional to the input, so a loop ends quickly and a long answer is cut."""
    ratio = 6.0 if target.script in _DENSE_SCRIPTS else 2.5
    return int(ratio * n_source_tokens) + 24
