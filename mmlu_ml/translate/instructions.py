"""A language's prompt lines: each subject's line of each kind (`templates.KINDS`), translated whole and checked
like a question's strings, plus `subject_named` (the line names its subject: `checks.names_subject`, against
the subject's name translated alone). A line that fails is put together again from the frame, translated once
per language, and the subject's name (`templates.FRAMES`: "<head>: <name>[. <tail>]"), and checked again; a line
that still fails is used, and counted as flagged in the first split's manifest (the language's flagged share,
translation_quality.md).

What is written beside the splits, `instructions.json`: the lines the evaluate stage reads (`gopher`, `cot`),
the parts they may be put together from (`names`, `frames`), and, for a line put together, the whole-line
translation it replaced (`recomposed`, `<kind>/<subject>` -> text), so a run that takes the file back instead
of the cache reaches the same lines.
"""

from __future__ import annotations

from collections import Counter

from ..core import templates
from ..core.languages import Language
from ..core.subjects import name as subject_name, pretty
from .checks import MAX_IDS, check_lines

PARTS = ("names", "frames")


def english(subjects: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    """The English to translate: lines per kind and subject, the subjects' names, the frames' parts."""
    lines = {kind: {s: template.format(subject=pretty(s)) for s in subjects} for kind, template in
             templates.KINDS.items()}
    names = {s: subject_name(s) for s in subjects}
    frames = {f"{kind}{suffix}": part for kind, parts in templates.FRAMES.items()
              for suffix, part in zip(("", "_tail"), parts) if part}
    return lines, names, frames


def compose(kind: str, frames: dict[str, str], name: str) -> str:
    """A line from its kind's translated frame and the subject's translated name."""
    line = f"{frames[kind].strip().rstrip('.:：。')}: {name.strip().rstrip('.。')}"
    tail = frames.get(f"{kind}_tail", "").strip()
    return f"{line}. {tail}" if tail else line


def settle(lines: dict[str, dict[str, str]], translated: dict[str, dict[str, str]], names: dict[str, str],
           frames: dict[str, str], target: Language) -> tuple[dict, dict]:
    """Check the translated lines (kind -> subject -> text) against the English `lines`; put the failing ones
    together from `frames` and `names` (both translated) and check those again. Returns (the lines to use with
    the whole-line translations they replaced under `recomposed`, the manifest's report)."""
    keyed = {f"{kind}/{s}": (lines[kind][s], translated[kind][s], s) for kind in lines for s in lines[kind]}
    first = check_lines(keyed, names, target)
    used = {kind: dict(by_subject) for kind, by_subject in translated.items()}
    recomposed = {}
    for key in first:
        kind, subject = key.split("/", 1)
        recomposed[key] = used[kind][subject]
        used[kind][subject] = compose(kind, frames, names[subject])
    again = check_lines({k: (keyed[k][0], used[k.split("/")[0]][keyed[k][2]], keyed[k][2]) for k in first},
                        names, target)
    report = {"lines": len(keyed), "flagged": len(first), "recomposed": len(recomposed),
              "still_flagged": len(again), "by_check": dict(sorted(Counter(c for cs in first.values() for c in cs)
                                                                    .items())),
              "ids": sorted(first)[:MAX_IDS], "still": {k: again[k] for k in sorted(again)[:MAX_IDS]}}
    return used | {"names": dict(names), "frames": dict(frames), "recomposed": recomposed}, report


def from_plan(plan, done: dict[str, str], target: Language, check: bool) -> tuple[dict, dict | None]:
    """`settle` on a translate plan's lines and parts, translated in `done` (English: taken as they are)."""
    translated = {kind: {s: done[line] for s, line in by_subject.items()} for kind, by_subject in
                  plan.instructions.items()}
    names = {s: done[text] for s, text in plan.names.items()}
    frames = {part: done[text] for part, text in plan.frames.items()}
    if not check:
        return translated | {"names": names, "frames": frames, "recomposed": {}}, None
    return settle(plan.instructions, translated, names, frames, target)


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
