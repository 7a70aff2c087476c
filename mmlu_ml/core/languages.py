"""Language records and published baselines, loaded from `languages.yaml` (data, never code)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import MmluMlError

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "languages.yaml"  # the repository root
_PACKAGED = Path(__file__).resolve().parents[1] / "languages.yaml"  # inside the package, for a wheel install
REQUIRED = ("code", "name", "native", "script", "azure", "speakers", "speakers_source", "words", "gpt4", "sets")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native: str
    script: str
    azure: str
    speakers: float
    speakers_source: str
    answer_word: str
    question_word: str
    gpt4: float | None
    sets: tuple[str, ...]
    letters: tuple[str, ...] = field(default=())

    @property
    def iso(self) -> str:
        """ISO 639-1 part of the code (`pt-BR` -> `pt`), what language detectors speak."""
        return self.code.split("-")[0].lower()


@dataclass(frozen=True)
class Baseline:
    name: str
    accuracy: float


@dataclass(frozen=True)
class Table:
    languages: dict[str, Language]
    baselines: tuple[Baseline, ...]
    path: str

    def select(self, selector: str | None) -> list[Language]:
        """`de,fr` | `gpt4` (English and the chart's 26) | `all` | a set name (`mmmlu`, `global_mmlu`)."""
        if not selector:
            selector = "en"
        out: list[Language] = []
        for part in (p.strip() for p in selector.split(",") if p.strip()):
            if part == "all":
                out += self.languages.values()
            elif part in ("gpt4", "mmmlu", "global_mmlu"):
                out += [lang for lang in self.languages.values() if part in lang.sets]
            elif part in self.languages:
                out.append(self.languages[part])
            else:
                by_lower = {c.lower(): c for c in self.languages}
                if part.lower() in by_lower:
                    out.append(self.languages[by_lower[part.lower()]])
                    continue
                raise MmluMlError(f"unknown language {part!r}; valid: {', '.join(self.languages)}, "
                                  "or gpt4, mmmlu, global_mmlu, all (see `mmlu-ml languages`)")
        return list({lang.code: lang for lang in out}.values())


# Names models know better than our table's display names (the LLM translators' prompts, the checks' glosses).
_PROMPT_NAMES = {"zh": "Simplified Chinese", "pt-BR": "Brazilian Portuguese"}


def language_name(lang: Language) -> str:
    return _PROMPT_NAMES.get(lang.code, lang.name)


def _fail(path, where: str, problem: str) -> MmluMlError:
    return MmluMlError(f"{path}: {where}: {problem}; fix languages.yaml (see its header for the fields)")


def parse(text: str, path: str = "languages.yaml") -> Table:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise _fail(path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("languages"), list):
        raise _fail(path, "top level", "expected a mapping with a `languages:` list")
    languages: dict[str, Language] = {}
    for i, entry in enumerate(data["languages"]):
        where = f"languages[{i}]" + (f" ({entry.get('code')})" if isinstance(entry, dict) and entry.get("code") else "")
        if not isinstance(entry, dict):
            raise _fail(path, where, "each language must be a mapping")
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise _fail(path, where, f"missing field(s) {', '.join(missing)}")
        words = entry["words"]
        if not isinstance(words, dict) or not words.get("answer") or not words.get("question"):
            raise _fail(path, where, "`words` needs `answer` and `question`")
        letters = words.get("letters") or ()
        letters = tuple(letters) if isinstance(letters, str) else letters  # "ABCD" as before
        if not isinstance(letters, (list, tuple)) or (letters and len(letters) != 4):
            raise _fail(path, where, "`words.letters` needs exactly 4 letters")
        if not isinstance(entry["sets"] or [], list):
            raise _fail(path, where, "`sets` must be a list of set names (may be [])")
        try:
            speakers = float(entry["speakers"])
            gpt4 = None if entry["gpt4"] is None else float(entry["gpt4"])
        except (TypeError, ValueError):
            raise _fail(path, where, "`speakers` and `gpt4` must be numbers (gpt4 may be null)") from None
        code = str(entry["code"])
        if code in languages:
            raise _fail(path, where, f"code {code!r} appears twice")
        languages[code] = Language(
            code=code, name=str(entry["name"]), native=str(entry["native"]), script=str(entry["script"]),
            azure=str(entry["azure"]), speakers=speakers, speakers_source=str(entry["speakers_source"]),
            answer_word=str(words["answer"]), question_word=str(words["question"]), gpt4=gpt4,
            sets=tuple(str(x) for x in entry["sets"] or ()), letters=tuple(str(x) for x in letters))
    if "en" not in languages:
        raise _fail(path, "languages", "English (`en`) must be listed: it is the source language")
    baselines = []
    for i, b in enumerate(data.get("baselines") or []):
        if not isinstance(b, dict) or "name" not in b or "accuracy" not in b:
            raise _fail(path, f"baselines[{i}]", "each baseline needs `name` and `accuracy`")
        try:
            baselines.append(Baseline(str(b["name"]), float(b["accuracy"])))
        except (TypeError, ValueError):
            raise _fail(path, f"baselines[{i}]", "`accuracy` must be a number") from None
    return Table(languages, tuple(baselines), path)


@lru_cache(maxsize=8)
def _load(path: str) -> Table:
    p = Path(path)
    if not p.is_file():
        raise MmluMlError(f"languages file {p} does not exist; set MMLU_ML_LANGUAGES_FILE to a languages.yaml")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MmluMlError(f"{p}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") from None
    return parse(text, str(p))


def load(path: str | os.PathLike | None = None) -> Table:
    """The table at `path`, MMLU_ML_LANGUAGES_FILE, the repository's languages.yaml, or the packaged copy."""
    chosen = path or os.environ.get("MMLU_ML_LANGUAGES_FILE")
    if not chosen:
        chosen = DEFAULT_PATH if DEFAULT_PATH.is_file() else _PACKAGED
    return _load(str(Path(chosen).resolve()))
