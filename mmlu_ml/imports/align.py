"""Line up rows of a translation made elsewhere with the English questions, and prove it.

A format reader gives a table with, per row, either the row's own id parts (`subject`, `index`: Okapi's index,
Global-MMLU's sample_id) or its `position` in the English split ordered by subject and row (MMMLU's index
column). The match is then checked, never trusted: same subject, same answer letter, and options that keep the
English numbers. A set whose answers or subjects disagree on more than MAX_DISAGREE of its rows, or whose
numbers disagree on more than MAX_NUMBERS, is refused whole; below that, rows whose subject or answer disagree
are left out, and every disagreement is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from ..core.errors import MmluMlError
from ..core.records import LETTERS, Question

MAX_DISAGREE = 0.01
MAX_NUMBERS = 0.25  # of the rows whose English options hold numbers
COLUMNS = ("question", "A", "B", "C", "D", "answer")
_GROUPING = re.compile(r"(?<=\d)[\s,.'’\u00a0\u202f](?=\d)")


@dataclass
class Aligned:
    questions: list[Question]
    report: dict
    tags: dict[str, dict] = field(default_factory=dict)  # id -> the set's own per-question metadata


def _digits(text: str) -> frozenset[str]:
    """The numbers of a text as digit strings, blind to how they are grouped (1,000 / 1 000 / 1.000)."""
    return frozenset(re.findall(r"\d+", _GROUPING.sub("", str(text))))


def _numbers_kept(english: Question, row) -> bool:
    """Every option that holds a number in English holds the same numbers in translation. Options are where a
    misaligned row shows first: two questions rarely share their four numeric answers."""
    kept = [_digits(e) == _digits(row[letter]) for e, letter in zip(english.choices, LETTERS) if _digits(e)]
    return not kept or sum(kept) * 2 > len(kept)  # a majority: a translator may spell one number out


def _english_id(row, by_position: list[Question] | None) -> str | None:
    if by_position is not None:
        pos = row["position"]
        return by_position[pos].id if 0 <= pos < len(by_position) else None
    return f"{row['subject']}/{row['split']}/{int(row['index'])}"


def _check_table(table: pd.DataFrame, where: str) -> None:
    """Refuse a table that cannot be an MMLU translation before matching anything."""
    if table.empty:
        raise MmluMlError(f"{where} holds no rows; check the file, or the --languages and --splits asked for")
    bad = table[~table["answer"].isin(LETTERS)]
    if len(bad):
        raise MmluMlError(f"{where}: answer {bad['answer'].iloc[0]!r} is not one of A, B, C, D "
                          f"({len(bad)} rows); this is not an MMLU translation in that format")


def _with_ids(table: pd.DataFrame, source: list[Question], by: str, where: str) -> pd.DataFrame:
    """The table with each row's English id (None where its position is out of range); an id twice is refused,
    since the rows would then compete for one question."""
    positions = source if by == "position" else None
    table = table.assign(id=[_english_id(row, positions) for _, row in table.iterrows()])
    dupes = table["id"].dropna()
    dupes = dupes[dupes.duplicated()]
    if len(dupes):
        raise MmluMlError(f"{where}: {len(dupes)} rows repeat an id (first: {dupes.iloc[0]}); "
                          "each question must appear once, so remove the duplicates")
    return table


@dataclass
class _Tally:
    """The disagreements counted while matching, with the first few ids of each for the report."""
    counts: dict[str, int]
    examples: dict[str, list[str]] = field(default_factory=lambda: {
        "answer_mismatch": [], "subject_mismatch": [], "number_mismatch": []})

    def note(self, problem: str, qid: str) -> None:
        self.counts[problem] += 1
        if len(self.examples[problem]) < 5:
            self.examples[problem].append(qid)


def _match(table: pd.DataFrame, index: dict[str, Question], tally: _Tally) -> tuple[list[Question], dict]:
    """Each row that matches an English question, as that question in translation, with the set's own tags.
    Rows whose subject or answer disagree are left out; rows whose numbers disagree are kept."""
    kept: list[Question] = []
    tags: dict[str, dict] = {}
    for row in table.itertuples(index=False):
        row = row._asdict()
        q = index.get(row["id"])
        if q is None:
            continue
        problem = None
        if row.get("subject") and row["subject"] != q.subject:
            problem = "subject_mismatch"
        elif row["answer"] != q.answer:
            problem = "answer_mismatch"
        if problem is None and not _numbers_kept(q, row):
            # kept: a translator may write 4 billion as 40亿; counted, since a shifted alignment shows here first
            tally.note("number_mismatch", q.id)
        if problem:
            tally.note(problem, q.id)
            continue
        kept.append(Question(q.subject, q.split, q.index, str(row["question"]),
                             (str(row["A"]), str(row["B"]), str(row["C"]), str(row["D"])), q.answer, language=""))
        if isinstance(row.get("tags"), dict) and row["tags"]:
            tags[q.id] = row["tags"]
    return kept, tags


def _refuse_misaligned(tally: _Tally, rows: int, source: list[Question], where: str, by: str, split: str) -> None:
    """Too many disagreements mean the rows do not line up at all: refuse the set whole rather than keep a part."""
    counts, examples = tally.counts, tally.examples
    for what in ("subject_mismatch", "answer_mismatch"):
        if counts[what] > MAX_DISAGREE * max(1, rows):
            noun = "subjects" if what == "subject_mismatch" else "answer letters"
            raise MmluMlError(
                f"{where}: {counts[what]} of {rows} rows disagree with the English {noun} by {by} "
                f"(first: {examples[what][0]}); the rows do not line up with MMLU {split}, so nothing was imported")
    numeric = sum(1 for q in source if any(_digits(c) for c in q.choices)) or 1
    if counts["number_mismatch"] > MAX_NUMBERS * min(numeric, rows):
        raise MmluMlError(f"{where}: the options' numbers differ from the English in {counts['number_mismatch']} "
                          f"rows (first: {examples['number_mismatch'][0]}); the rows look shifted against MMLU "
                          f"{split}, so nothing was imported")
    if counts["extra"] > MAX_DISAGREE * max(1, rows):
        raise MmluMlError(f"{where}: {counts['extra']} of {rows} rows match no English {split} question by {by}; "
                          "is this the right format and split?")


def align(table: pd.DataFrame, english: dict[str, list[Question]], where: str, by: str) -> Aligned:
    """`table`: one language and split; `english`: split -> its questions (all subjects, source order).
    `by` is "id" or "position". Refuses (MmluMlError) what cannot be a translation of these questions."""
    _check_table(table, where)
    split = str(table["split"].iloc[0])
    source = english[split]
    index = {q.id: q for q in source}
    table = _with_ids(table, source, by, where)
    extra = [i for i in table["id"] if i is None or i not in index]
    tally = _Tally({"rows": len(table), "english": len(source), "extra": len(extra), "answer_mismatch": 0,
                    "subject_mismatch": 0, "number_mismatch": 0})
    kept, tags = _match(table, index, tally)
    _refuse_misaligned(tally, len(table), source, where, by, split)
    # in the English split's order, whatever order the set's rows came in
    order = {q.id: i for i, q in enumerate(source)}
    kept.sort(key=lambda q: order[q.id])
    counts = tally.counts
    counts["matched"] = len(kept)
    counts["missing"] = len(source) - len(kept)
    counts["duplicated"] = 0
    report = {"by": by, "counts": counts, "coverage": round(len(kept) / len(source), 6) if source else 0.0,
              "examples": {k: v for k, v in tally.examples.items() if v}}
    return Aligned(kept, report, tags)
