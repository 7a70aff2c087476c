"""What evaluate writes and report reads: predictions, scores.csv and its sibling tables, the signature of a
score, evaluation.manifest.json. The tables' columns are named here once."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from ..errors import MmluMlError
from ..records import read_jsonl
from ..subjects import SUBJECTS
from .commands import evaluate_command

# accuracy, ci_low, ci_high: the sample's (every scored question counts once; Wilson). macro_accuracy: the mean
# of the subjects' accuracies (subject-equal). weighted_*: the estimate of the whole split's micro accuracy,
# post-stratified by subject, the figure to set beside published full-test numbers (core/stats.py), with
# n_effective, the sample size its weights are worth. letter_shares: how often each letter was the answer given
# ("A=0.250 B=0.250 C=0.300 D=0.200"): a model that leans on one letter moves with its bias, not its knowledge.
SCORE_COLUMNS = ("model", "protocol", "language", "n", "correct", "unparsed", "errors", "accuracy", "ci_low",
                 "ci_high", "macro_accuracy", "weighted_accuracy", "weighted_ci_low", "weighted_ci_high",
                 "n_effective", "letter_shares", "shots", "translator", "model_fingerprint", "questions_total",
                 "limit", "tool_version", "signature")
CATEGORY_COLUMNS = ("model", "protocol", "language", "category", "n", "correct", "accuracy", "ci_low", "ci_high",
                    "weighted_accuracy", "weighted_ci_low", "weighted_ci_high")
# diff*: on the sample (Newcombe); weighted_diff*: the whole split's, post-stratified, and weighted_p the p-value
# of "no difference" matching that interval (the report adjusts it within a family: Holm)
PAIRED_COLUMNS = ("model", "protocol", "language", "n_paired", "accuracy_lang", "accuracy_en", "diff", "diff_low",
                  "diff_high", "weighted_diff", "weighted_diff_low", "weighted_diff_high", "weighted_p")
CHECK_COLUMNS = ("model", "protocol", "language", "questions", *PAIRED_COLUMNS[3:9])
TRANSLATOR_COLUMNS = ("model", "protocol", "language", "translator_a", "translator_b", "n", "n_a", "n_b",
                      "accuracy_en", "en_low", "en_high", "accuracy_a", "a_low", "a_high", "accuracy_b", "b_low",
                      "b_high", "diff_a_b", "diff_a_b_low", "diff_a_b_high", "diff_a_en", "diff_a_en_low",
                      "diff_a_en_high", "diff_b_en", "diff_b_en_low", "diff_b_en_high", "answers_changed")
TAG_COLUMNS = ("model", "protocol", "language", "tag", "value", "n", "correct", "accuracy", "ci_low", "ci_high")
# The columns report needs of scores.csv; the others are optional there (shown when present: older files lack some)
REQUIRED = ("model", "protocol", "language", "n", "correct", "accuracy", "ci_low", "ci_high", "signature")
OPTIONAL_INT = ("unparsed", "errors", "shots", "questions_total", "limit")
EPS = 1e-5  # scores.csv rounds to 6 decimals


@dataclass(frozen=True)
class Score:
    """One row of scores.csv: a (model, protocol, language) result. Accuracies in [0, 1]."""

    model: str
    protocol: str
    language: str
    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    signature: str
    unparsed: int | None = None
    errors: int | None = None
    shots: int | None = None
    questions_total: int | None = None
    limit: int | None = None
    macro_accuracy: float | None = None
    weighted_accuracy: float | None = None  # the whole split's estimate, post-stratified (evaluate/scores.py)
    weighted_ci_low: float | None = None
    weighted_ci_high: float | None = None
    n_effective: float | None = None
    letter_shares: str = ""
    translator: str = ""
    model_fingerprint: str = ""
    tool_version: str = ""
    subjects: int | None = None       # subjects scored, from evaluation.manifest.json when present
    splits: str = ""

    @property
    def series(self) -> tuple[str, str]:
        return (self.model, self.protocol)

    @property
    def headline(self) -> tuple[float, float, float]:
        """(accuracy, low, high) to stand beside published full-test figures: the size-weighted estimate of the
        whole split where scores.csv has it (a file from before it did: the sample's)."""
        if (self.weighted_accuracy is not None and self.weighted_ci_low is not None
                and self.weighted_ci_high is not None):
            return self.weighted_accuracy, self.weighted_ci_low, self.weighted_ci_high
        return self.accuracy, self.ci_low, self.ci_high

    @property
    def letters(self) -> dict[str, float]:
        """letter -> share of the answers given, from `letter_shares`."""
        pairs = (item.split("=", 1) for item in self.letter_shares.split() if "=" in item)
        return {k: float(v) for k, v in pairs}

    @property
    def is_sample(self) -> bool:
        """Honest subsets: a --limit run, or fewer questions scored than the split holds."""
        return (self.limit is not None or (self.questions_total is not None and self.n < self.questions_total)
                or (self.subjects is not None and self.subjects < len(SUBJECTS)))



def _fix(path: Path) -> str:
    return f"regenerate it with `{evaluate_command(path.parent)}`"


def _read_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, row) pairs of a CSV with a header; a missing column or a torn row is an error."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise MmluMlError(f"{path} is empty; {_fix(path)}") from None
    except UnicodeDecodeError:
        raise MmluMlError(f"{path} is not UTF-8 text; {_fix(path)}") from None
    except pd.errors.ParserError as exc:  # a row with more fields than the header
        detail = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
        raise MmluMlError(f"{path} is not a valid CSV ({detail}); {_fix(path)}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise MmluMlError(f"{path} lacks column(s) {', '.join(missing)}; {_fix(path)}")
    # pandas pads a row with fewer fields than the header (a torn write) with ""; the readers below catch it
    # by the required cell it leaves empty
    return [(i + 2, row) for i, row in enumerate(table.to_dict("records"))]


def _number(row: dict, col: str, kind, where: str, path: Path, optional: bool = False):
    raw = (row.get(col) or "").strip()
    if raw == "" and optional:
        return None
    try:
        value = kind(float(raw)) if kind is int else float(raw)
        if kind is int and float(raw) != value:
            raise ValueError
    except ValueError:
        raise MmluMlError(f"{where}: column {col} is {raw!r}, not a{'n integer' if kind is int else ' number'}; "
                          f"{_fix(path)}") from None
    if not math.isfinite(value):
        raise MmluMlError(f"{where}: column {col} is {raw!r}; {_fix(path)}")
    return value


@overload
def _share(row: dict, col: str, where: str, path: Path, optional: Literal[False] = False) -> float: ...
@overload
def _share(row: dict, col: str, where: str, path: Path, optional: bool) -> float | None: ...


def _share(row: dict, col: str, where: str, path: Path, optional: bool = False) -> float | None:
    value = _number(row, col, float, where, path, optional)
    if value is not None and not -EPS <= value <= 1 + EPS:
        raise MmluMlError(f"{where}: {col} = {value} is outside [0, 1] (accuracies are shares, not percents); "
                          f"{_fix(path)}")
    return value


def read_scores(path: Path, unscored: list[dict] | None = None) -> list[Score]:
    """The scored rows of scores.csv; rows with n = 0 go to `unscored` when given."""
    unscored = [] if unscored is None else unscored
    if not path.is_file():
        raise MmluMlError(f"no scores at {path}; run `{evaluate_command(path.parent)}` first "
                          "(or point --out at a results folder that holds scores.csv)")
    scores: list[Score] = []
    seen: set[tuple[str, str, str]] = set()
    for line, row in _read_csv(path, REQUIRED):
        where = f"{path}:{line}"
        if not row["signature"].strip():  # written last on every row: empty means a row cut short
            raise MmluMlError(f"{where}: expected {len(row)} fields, signature and maybe more are empty (a torn row); "
                              f"{_fix(path)}")
        for col in ("model", "protocol", "language"):
            if not row[col].strip():
                raise MmluMlError(f"{where}: column {col} is empty; {_fix(path)}")
        key = (row["model"], row["protocol"], row["language"])
        if key in seen:
            raise MmluMlError(f"{where}: a second row for model {key[0]!r}, protocol {key[1]!r}, language "
                              f"{key[2]!r}; {_fix(path)}")
        seen.add(key)
        ints = {c: _number(row, c, int, where, path, optional=True) for c in OPTIONAL_INT}
        if _number(row, "n", int, where, path) == 0:
            # nothing scored (every question an error): no accuracy to draw; kept aside and reported
            unscored.append({"model": key[0], "protocol": key[1], "language": key[2], "errors": ints["errors"]})
            continue
        score = Score(
            model=row["model"], protocol=row["protocol"], language=row["language"],
            n=_number(row, "n", int, where, path), correct=_number(row, "correct", int, where, path),
            accuracy=_share(row, "accuracy", where, path), ci_low=_share(row, "ci_low", where, path),
            ci_high=_share(row, "ci_high", where, path), signature=row["signature"].strip(),
            macro_accuracy=_share(row, "macro_accuracy", where, path, optional=True),
            weighted_accuracy=_share(row, "weighted_accuracy", where, path, optional=True),
            weighted_ci_low=_share(row, "weighted_ci_low", where, path, optional=True),
            weighted_ci_high=_share(row, "weighted_ci_high", where, path, optional=True),
            n_effective=_number(row, "n_effective", float, where, path, optional=True),
            letter_shares=(row.get("letter_shares") or "").strip(),
            translator=(row.get("translator") or "").strip(),
            model_fingerprint=(row.get("model_fingerprint") or "").strip(),
            tool_version=(row.get("tool_version") or "").strip(), **ints)
        if not score.ci_low - EPS <= score.accuracy <= score.ci_high + EPS:
            raise MmluMlError(f"{where}: accuracy {score.accuracy} lies outside its interval "
                              f"[{score.ci_low}, {score.ci_high}]; {_fix(path)}")
        if score.n < 0 or not 0 <= score.correct <= score.n:
            raise MmluMlError(f"{where}: correct = {score.correct} with n = {score.n}; {_fix(path)}")
        scores.append(score)
    if not scores:
        what = f"only rows with n = 0 ({len(unscored)}: every question failed)" if unscored else "no scores"
        raise MmluMlError(f"{path} holds {what}; run `{evaluate_command(path.parent)}` first")
    return scores


def read_categories(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line, row in _read_csv(path, ("model", "protocol", "language", "category", "n", "accuracy")):
        where = f"{path}:{line}"
        rows.append({**row, "n": _number(row, "n", int, where, path), "accuracy": _share(row, "accuracy", where, path),
                     "ci_low": _share(row, "ci_low", where, path, optional=True),
                     "ci_high": _share(row, "ci_high", where, path, optional=True),
                     "weighted_accuracy": _share(row, "weighted_accuracy", where, path, optional=True)})
    return rows


def read_paired(path: Path) -> dict[tuple[str, str, str], dict]:
    if not path.is_file():
        return {}
    rows = {}
    for line, row in _read_csv(path, ("model", "protocol", "language", "n_paired", "diff", "diff_low", "diff_high")):
        where = f"{path}:{line}"
        rows[(row["model"], row["protocol"], row["language"])] = {
            **row, "n_paired": _number(row, "n_paired", int, where, path),
            **{c: _number(row, c, float, where, path) for c in ("diff", "diff_low", "diff_high")},
            **{c: _number(row, c, float, where, path, optional=True)
               for c in ("weighted_diff", "weighted_diff_low", "weighted_diff_high", "weighted_p")}}
    return rows


def read_evaluation_manifest(out: Path) -> dict[str, dict]:
    """<out>/evaluation.manifest.json ("model/protocol" -> config), {} when absent; it says which subjects ran.
    A damaged one is an error, for the evaluate stage extending it too: remaking it would drop the records of
    every other model and language it holds."""
    path = Path(out) / "evaluation.manifest.json"
    if not path.is_file():
        return {}
    fix = (f"move it away and run `{evaluate_command(out)}` again for each model (it is rebuilt from the "
           "predictions, which stay; nothing is asked again)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MmluMlError(f"{path} is not valid JSON ({exc.__class__.__name__}); {fix}") from None
    if not isinstance(data, dict):
        raise MmluMlError(f"{path} is not a JSON object; {fix}")
    return data


# --- translators.csv, scores_by_tag.csv, paired_by_checks.csv ------------------------------------------------

PAIR_KEYS = ("model", "protocol", "language", "translator_a", "translator_b", "n")
PAIR_SHARES = ("accuracy_en", "en_low", "en_high", "accuracy_a", "a_low", "a_high", "accuracy_b", "b_low", "b_high",
               "diff_a_b", "diff_a_b_low", "diff_a_b_high", "diff_a_en", "diff_a_en_low", "diff_a_en_high",
               "diff_b_en", "diff_b_en_low", "diff_b_en_high")


def read_sensitivity(out: Path) -> tuple[list[dict], list[dict]]:
    """The rows of translators.csv and scores_by_tag.csv, [] for a file that is not there."""
    pairs, tags = [], []
    path = Path(out) / "translators.csv"
    if path.is_file():
        for line, row in _read_csv(path, PAIR_KEYS + PAIR_SHARES):
            where = f"{path}:{line}"
            pairs.append({**row, "n": _number(row, "n", int, where, path),
                          "answers_changed": _number(row, "answers_changed", int, where, path, optional=True),
                          **{c: _number(row, c, float, where, path) for c in PAIR_SHARES}})
    path = Path(out) / "scores_by_tag.csv"
    if path.is_file():
        for line, row in _read_csv(path, ("model", "protocol", "language", "tag", "value", "n", "accuracy")):
            where = f"{path}:{line}"
            tags.append({**row, "n": _number(row, "n", int, where, path),
                         **{c: _number(row, c, float, where, path, optional=True)
                            for c in ("accuracy", "ci_low", "ci_high")}})
    return pairs, tags


def read_checks(out: Path) -> dict[tuple[str, str, str], dict[str, dict]]:
    """paired_by_checks.csv: (model, protocol, language) -> {"clean" | "flagged": its paired row}, in file order."""
    path = Path(out) / "paired_by_checks.csv"
    found: dict[tuple[str, str, str], dict[str, dict]] = {}
    if path.is_file():
        for line, row in _read_csv(path, ("model", "protocol", "language", "questions", "n_paired", "diff")):
            where = f"{path}:{line}"
            found.setdefault((row["model"], row["protocol"], row["language"]), {})[row["questions"]] = {
                "n": _number(row, "n_paired", int, where, path),
                **{c: _number(row, c, float, where, path, optional=True) for c in ("diff", "diff_low", "diff_high")}}
    return found


# --- predictions --------------------------------------------------------------------------------------------

def read_predictions(path: Path) -> list[dict]:
    """Every row of a predictions file (`<out>/predictions/<model>/<protocol>/<lang>.jsonl`), [] when absent."""
    return list(read_jsonl(path)) if Path(path).is_file() else []


def latest_rows(path: Path, config_key: str) -> dict[str, dict]:
    """id -> the last prediction row written under `config_key` (a retried error is superseded)."""
    return {row["id"]: row for row in read_predictions(path) if row.get("config_key") == config_key}


# --- the signature of a score -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    """What a score was made with, in one line: `protocol:gpt4|shots:3|translator:local(qwen,p7)|
    model:name@1a2b3c4d|n:285/14042|v:0.1.0` (sacrebleu's idea: a number travels with its recipe)."""

    protocol: str
    shots: int
    translator: str
    model: str
    model_sha: str
    n: int
    total: int
    version: str

    def format(self) -> str:
        return (f"protocol:{self.protocol}|shots:{self.shots}|translator:{self.translator}|"
                f"model:{self.model}@{self.model_sha}|n:{self.n}/{self.total}|v:{self.version}")

    @staticmethod
    def parse(text: str) -> dict[str, str]:
        """field -> value of a signature (any version: a part without `key:` is kept as `_<position>`)."""
        pairs: dict[str, str] = {}
        for part in text.split("|"):
            key, sep, value = part.partition(":")
            pairs[key.strip() if sep else f"_{len(pairs)}"] = value.strip() if sep else part.strip()
        return pairs
