"""A language's prompt lines, one per subject and kind (`templates.KINDS`), checked like a question's strings and
for naming their subject.

Whether a line names its subject is read from its back-translation: the translator takes the line back into
English and the subject's own words must be found there (`checks.names_subject`). Measured on the published
German lines (BENCHMARKS.md, "Instruction lines"), the subject's name translated alone was no yardstick: a 1.5B
model writes a name out of context worse than in the line.

A line that fails is translated again from a variant of its English with the subject's name quoted and in
capitals (`variant`), so the translator takes it as a term; the variant is back-translated and checked in turn.
It replaces the line when it passes; when it fails too, the first translation stays and the line counts as
flagged (the first split's manifest: the language's flagged share, translation_quality.md).

instructions.json holds the lines the evaluate stage reads (`gopher`, `cot`) and what the checks read
(`back`: each line's back-translation; `retranslated`: for a line that failed, its first translation and the
variant's, with their back-translations), so a run that takes the file back instead of the cache reaches the
same lines without sending anything.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable

from ..core import templates
from ..core.languages import Language
from ..core.subjects import pretty
from ..core.checks import MAX_IDS, check_lines

# ask(texts, source, target) -> {text: translation or None}: the stage's translator behind its cache
Ask = Callable[[list[str], Language, Language], dict]


def english(subjects: list[str]) -> dict[str, dict[str, str]]:
    """The English lines to translate: kind -> subject -> line."""
    return {kind: {s: template.format(subject=pretty(s)) for s in subjects} for kind, template in
            templates.KINDS.items()}


def _title(subject: str) -> str:
    """The subject's English name, capitalised: "High School Geography", "US Foreign Policy"."""
    return " ".join("US" if w == "us" else w.capitalize() for w in pretty(subject).split())


def variant(kind: str, subject: str) -> str:
    """The line again, its subject quoted and capitalised: "... questions about "High School Geography""."""
    return templates.KINDS[kind].format(subject=f'"{_title(subject)}"')


def seeds(written: dict, source: Language, target: Language) -> dict:
    """What an earlier instructions.json tells `ask` without a request: (source, target, text) -> translation."""
    out = {}
    back = _dict(written.get("back"))
    again = _dict(written.get("retranslated"))
    for key, record in again.items():
        if isinstance(record, dict) and {"first", "first_back", "again", "again_back"} <= set(record):
            kind, subject = key.split("/", 1)
            out[target.code, source.code, record["first"]] = record["first_back"]
            out[source.code, target.code, variant(kind, subject)] = record["again"]
            out[target.code, source.code, record["again"]] = record["again_back"]
            if record.get("named") and record.get("named_back"):
                out[target.code, source.code, record["named"]] = record["named_back"]
    for kind in templates.KINDS:
        lines = _dict(written.get(kind))
        for subject, line in lines.items():
            if f"{kind}/{subject}" in back:
                out[target.code, source.code, line] = back[f"{kind}/{subject}"]
    return out


def _dict(value: object) -> dict:
    """`value` where it is a dict, else an empty one (a hand-edited or older instructions.json)."""
    return value if isinstance(value, dict) else {}


def settle(lines: dict[str, dict[str, str]], translated: dict[str, dict[str, str]], ask: Ask, english_: Language,
           target: Language) -> tuple[dict, dict]:
    """Check the translated lines (kind -> subject -> text) of the English `lines`; translate the failing ones
    again from their variant and keep the variant where it passes. Returns (what instructions.json holds for
    these subjects, the manifest's report)."""
    keys = [(kind, s) for kind in lines for s in lines[kind]]
    back = ask([translated[k][s] for k, s in keys], target, english_)
    first = check_lines({f"{k}/{s}": (lines[k][s], translated[k][s], back.get(translated[k][s]), s)
                         for k, s in keys}, target)
    variants = {key: variant(*key.split("/", 1)) for key in first}
    again = ask(list(variants.values()), english_, target)
    retried = {key: translation for key, text in variants.items() if (translation := again.get(text))}
    again_back = ask(list(retried.values()), target, english_)
    second = check_lines({key: (variants[key], text, again_back.get(text), key.split("/", 1)[1])
                          for key, text in retried.items()}, target)
    # last: the variant's translation with the quoted name given back in English (a term a reader of the
    # language meets in English is better than another subject's name); no quotes kept, no such line
    named = {key: line for key in first if key in retried and key in second
             if (line := english_name(retried[key], key.split("/", 1)[1])) is not None}
    named_back = ask(list(named.values()), target, english_)
    third = check_lines({key: (variants[key], text, named_back.get(text), key.split("/", 1)[1])
                         for key, text in named.items()}, target)
    used = {kind: dict(by_subject) for kind, by_subject in translated.items()}
    backs = {**back, **again_back, **named_back}
    record, fixed, in_english = {}, 0, 0
    for key in first:
        kind, subject = key.split("/", 1)
        record[key] = {"first": translated[kind][subject], "first_back": back.get(translated[kind][subject]),
                       "checks": first[key], "again": retried.get(key),
                       "again_back": again_back.get(retried.get(key)), "again_checks": second.get(key)}
        if key in retried and key not in second:
            used[kind][subject] = retried[key]
            fixed += 1
        if key in named:
            record[key] |= {"named": named[key], "named_back": named_back.get(named[key]),
                            "named_checks": third.get(key)}
            if key not in third:
                used[kind][subject] = named[key]
                fixed, in_english = fixed + 1, in_english + 1
    still = sorted(k for k in first if used[k.split("/")[0]][k.split("/", 1)[1]] == translated[k.split("/")[0]]
                   [k.split("/", 1)[1]])
    report = {"lines": len(keys), "flagged": len(first), "retranslated": fixed, "named_in_english": in_english,
              "still_flagged": len(still), "unjudged": sum(translated[k][s] not in back for k, s in keys),
              "by_check": dict(sorted(Counter(c for cs in first.values() for c in cs).items())),
              "ids": sorted(first)[:MAX_IDS], "still": still[:MAX_IDS]}
    back_used = {f"{k}/{s}": backs.get(used[k][s]) for k, s in keys}
    return used | {"back": back_used, "retranslated": record}, report


_QUOTED = re.compile(r'(["“”„«»「『‚‘’])([^"“”„«»「」『』‚‘’]{2,80})(["“”„«»」』‘’])')


def english_name(line: str, subject: str) -> str | None:
    """`line` with its first quoted span replaced by the subject's English name, or None with no quotes."""
    name = _title(subject)
    found = _QUOTED.search(line)
    if found is None:
        return None
    return line[:found.start(2)] + name + line[found.end(2):]


def count_in(checks: dict, report: dict) -> dict:
    """The split's checks with the instruction lines' report added: lines still flagged count toward the
    language's flagged share (lines are strings of the first split), and fail `--strict` (one heads every
    prompt of its subject)."""
    out = dict(checks) | {"instructions": report}
    flagged = dict(out.get("flagged") or {})
    strings = out.get("strings", 0) + report["lines"]
    count = flagged.get("count", 0) + report["still_flagged"]
    out["flagged"] = flagged | {"count": count, "share": round(count / strings, 4) if strings else 0.0,
                                "instruction_lines": report["still_flagged"]}
    if report["still_flagged"]:
        out["failed"] = list(out.get("failed", [])) + ["instruction_lines"]
    return out
