"""Format `hf-dataset`: a folder that `datasets.load_dataset(folder, "<lang>", split="test")` reads as it would
from the hub. One config per language, one parquet file per split (the hub's own `<split>-00000-of-00001`
naming), a dataset card (README.md) whose YAML header lists the configs and their files and whose body gives the
provenance, and `mmlu_ml.json` holding the same provenance for programs (and marking the folder as ours).

`push` uploads such a folder with huggingface_hub."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..core.errors import MmluMlError
from ..core.records import LETTERS, write_atomic, write_json
from ..core.subjects import CATEGORY
from .translations import LanguageSet

MARKER = "mmlu_ml.json"
SOURCE = {"dataset": "MMLU (Hendrycks et al., 2021, Measuring Massive Multitask Language Understanding)",
          "url": "https://github.com/hendrycks/test", "hub": "cais/mmlu", "license": "MIT"}
CITATION = """@article{hendryckstest2021,
  title={Measuring Massive Multitask Language Understanding},
  author={Dan Hendrycks and Collin Burns and Steven Basart and Andy Zou and Mantas Mazeika and Dawn Song and Jacob Steinhardt},
  journal={Proceedings of the International Conference on Learning Representations (ICLR)},
  year={2021}
}"""


def features():
    import datasets

    # cais/mmlu's columns (answer a ClassLabel A-D, stored 0-3, which lm-eval's mmlu tasks index choices with)
    # plus our id and category
    return datasets.Features({
        "id": datasets.Value("string"), "subject": datasets.Value("string"), "category": datasets.Value("string"),
        "question": datasets.Value("string"), "choices": datasets.Sequence(datasets.Value("string")),
        "answer": datasets.ClassLabel(names=list(LETTERS)),
    })


def data_file(code: str, split: str) -> str:
    return f"{code}/{split}-00000-of-00001.parquet"


def export(sets: list[LanguageSet], folder: Path, context: dict) -> dict:
    """Write the dataset folder; returns its provenance (also written to mmlu_ml.json)."""
    import datasets

    datasets.disable_progress_bars()  # a progress bar per file says nothing here
    configs = []
    for s in sets:
        files = []
        for split in s.splits.values():
            path = folder / data_file(s.code, split.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            columns = {
                "id": [r["id"] for r in split.rows], "subject": [r["subject"] for r in split.rows],
                "category": [CATEGORY[r["subject"]] for r in split.rows],
                "question": [r["question"] for r in split.rows], "choices": [r["choices"] for r in split.rows],
                "answer": [LETTERS.index(r["answer"]) for r in split.rows],
            }
            datasets.Dataset.from_dict(columns, features=features()).to_parquet(str(path))
            files.append({"split": split.name, "path": data_file(s.code, split.name)})
        configs.append({"config_name": s.code, "data_files": files})
    provenance = provenance_of(sets, context)
    write_json(folder / MARKER, provenance)
    write_atomic(folder / "README.md", card(configs, provenance, sets))
    return provenance


def provenance_of(sets: list[LanguageSet], context: dict) -> dict:
    languages = {}
    for s in sets:
        splits = {}
        for split in s.splits.values():
            m = split.manifest
            checks = m.get("checks") or {}
            splits[split.name] = {
                **split.coverage(), "translator": m["translator"], "glossary": m.get("glossary"),
                "tool_version": m.get("tool_version"), "created": m.get("created"), "source": m.get("source"),
                "source_hash": m.get("source_hash"), "checks": checks,
            }
        languages[s.code] = {"translations": s.translator, "complete": not s.gaps(), "gaps": s.gaps(),
                             "splits": splits}
    return {"format": context["format"], "tool": "mmlu-ml", "tool_version": context["tool_version"],
            "exported": context["exported"], "translator": context["translator"], "source": SOURCE,
            "languages": languages}


# -- the dataset card ---------------------------------------------------------------------------------------

def _cell(value) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "-" if value in (None, "") else str(value).replace("|", "\\|").replace("\n", " ")


def _share(value) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "?"


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def _splits(provenance: dict):
    for code, lang in provenance["languages"].items():
        for name, split in lang["splits"].items():
            yield code, name, split


def _size_category(total: int) -> str:
    return ("n<1K" if total < 1000 else "1K<n<10K" if total < 10_000 else
            "10K<n<100K" if total < 100_000 else "100K<n<1M")


def _card_header(configs: list[dict], provenance: dict, sets: list[LanguageSet], table: dict) -> dict:
    """The card's YAML header: the hub reads the configs and their files, and its search filters, from here."""
    codes = [s.code for s in sets]
    total = sum(len(split.rows) for s in sets for split in s.splits.values())
    return {
        "pretty_name": f"MMLU translated by mmlu-ml ({provenance['translator']})",
        "license": "mit",
        "language": list(dict.fromkeys(table[c].iso if c in table else c for c in codes)),
        "multilinguality": "multilingual" if len(codes) > 1 else "monolingual",
        "source_datasets": ["cais/mmlu"],
        "task_categories": ["question-answering"], "task_ids": ["multiple-choice-qa"],
        "size_categories": [_size_category(total)],
        "tags": ["mmlu", "machine-translated", "mmlu-ml"],
        "configs": configs,
    }


def _card_intro(provenance: dict, codes: list[str], table: dict) -> list[str]:
    """What the set is, how to load it, its columns, and where it came from (source, translation, export)."""
    names = ", ".join(f"{table[c].name} (`{c}`)" if c in table else f"`{c}`" for c in codes)
    src = provenance["source"]
    read_from = sorted({f"`{s['source']}` (sha256 `{s['source_hash']}`)" for _, _, s in _splits(provenance)})
    made = sorted({(str(s["tool_version"]), str(s["created"])[:10]) for _, _, s in _splits(provenance)})
    return [
        f"# MMLU in {names}, machine-translated with mmlu-ml", "",
        f"The {src['dataset']} multiple-choice questions, translated by the `{provenance['translator']}` "
        "translator of mmlu-ml (its fingerprint below) and exported "
        f"{provenance['exported'][:10]} by mmlu-ml {provenance['tool_version']}. A machine translation: read the "
        "check results before trusting a language.", "",
        "```python", "from datasets import load_dataset", "",
        f"test = load_dataset(\"<this repository or folder>\", \"{codes[0]}\", split=\"test\")", "```", "",
        "Columns: `id` (`subject/split/index`, the index being the row of the original CSV, as Okapi and "
        "Global-MMLU number them), `subject`, `category` (STEM, humanities, social sciences, other), `question`, "
        "`choices` (4 strings, options A-D), `answer` (a class label A-D, stored as 0-3).", "",
        "## Source and licence", "",
        f"- Source: {src['dataset']}, {src['url']} (on the hub: `{src['hub']}`), licence {src['license']}; "
        "this translation is distributed under the same licence.",
        "- Read from: " + "; ".join(read_from),
        "- Translated: " + "; ".join(f"mmlu-ml {v} on {d}" for v, d in made),
        f"- Exported: {provenance['exported']} by mmlu-ml {provenance['tool_version']}", "",
    ]


def _translator_section(provenance: dict) -> list[str]:
    """One column per fingerprint key any split recorded, so splits made differently show side by side."""
    lines = ["## Translator", "",
             "The fingerprint the translate stage recorded (backend, engine or model, prompt version, API version...).",
             ""]
    keys = list(dict.fromkeys(k for _, _, s in _splits(provenance) for k in s["translator"]))
    return lines + _table(["language", "split", *keys, "glossary"],
                          [[c, n, *[s["translator"].get(k) for k in keys], s["glossary"]]
                           for c, n, s in _splits(provenance)])


def _coverage_section(provenance: dict) -> list[str]:
    """What each split holds; a partial set says so, since its scores do not compare with the whole MMLU's."""
    lines = ["", "## Coverage", ""]
    lines += _table(["language", "split", "questions", "subjects", "limit per subject", "complete"],
                    [[c, n, s["questions"], f"{s['subjects']} of {s['of_subjects']}", s["limit"],
                      "yes" if s["complete"] else "no"] for c, n, s in _splits(provenance)])
    partial = {c: lang["gaps"] for c, lang in provenance["languages"].items() if lang["gaps"]}
    if partial:
        lines += ["", "**Partial translation.** " + "; ".join(f"{c}: {', '.join(g)}" for c, g in partial.items())
                  + ". Scores on it are not comparable with scores on the whole MMLU."]
    return lines


def _check_cells(checks: dict, names: list[str]) -> list[str]:
    """A split's row of the checks table: each check's share, count and threshold, then the failed ones."""
    if "skipped" in checks:
        return [*[f"skipped ({checks['skipped']})"] + ["-"] * (len(names) - 1), "-"]
    failed = checks.get("failed") or []
    cells = []
    for name in names:
        v = checks.get(name)
        cells.append("-" if not isinstance(v, dict) else
                     f"{v['share']:.1%} ({v.get('count', '?')}), max {_share(v.get('threshold'))}"
                     + (" FAILED" if name in failed else ""))
    return [*cells, ", ".join(failed) or "none"]


def _checks_section(provenance: dict) -> list[str]:
    lines = ["", "## Translation checks", "",
             "Share of questions (or strings) each check flagged, with its threshold; `FAILED` marks a check over "
             "its threshold. Checks are skipped for English (copied, not translated).", ""]
    # a check is a column if any split measured it (its entry holds a share); other keys are bookkeeping
    names = list(dict.fromkeys(k for _, _, s in _splits(provenance) for k, v in s["checks"].items()
                               if isinstance(v, dict) and "share" in v))
    rows = [[c, n, *_check_cells(s["checks"], names)] for c, n, s in _splits(provenance)]
    return lines + (_table(["language", "split", *names, "failed"], rows) if names else ["No checks were recorded."])


def card(configs: list[dict], provenance: dict, sets: list[LanguageSet]) -> str:
    from ..core import languages as languages_mod

    table = languages_mod.load().languages
    header = _card_header(configs, provenance, sets, table)
    lines = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000).rstrip(), "---", ""]
    lines += _card_intro(provenance, [s.code for s in sets], table)
    lines += _translator_section(provenance)
    lines += _coverage_section(provenance)
    lines += _checks_section(provenance)
    lines += ["", "## Citation", "", "```bibtex", CITATION, "```", ""]
    return "\n".join(lines)


# -- upload -------------------------------------------------------------------------------------------------

def check_repo(repo: str) -> None:
    """A bad repository name or a missing token fails before any work."""
    from huggingface_hub import constants, get_token
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo)
    except Exception:
        raise MmluMlError(f"--push {repo!r} is not a hub repository name; use <user or org>/<name>") from None
    if "/" not in repo:
        raise MmluMlError(f"--push {repo!r} lacks its owner; use <user or org>/{repo}")
    if not get_token():
        raise MmluMlError(f"--push {repo}: not logged in to {constants.ENDPOINT}; set HF_TOKEN to a write token or "
                          "run `hf auth login`, then export again")


def push(folder: Path, repo: str) -> str:
    """Upload the folder as dataset `repo` (created if missing); its URL. Network and auth failures are one line."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    endpoint = constants.ENDPOINT
    api = HfApi(endpoint=endpoint)
    try:
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=str(folder),
                          commit_message="mmlu-ml export hf-dataset")
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            raise MmluMlError(f"--push {repo}: {endpoint} refused the token ({status}); set HF_TOKEN to a token "
                              "with write access to that namespace (or `hf auth login`), then export again") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MmluMlError(f"--push {repo}: {endpoint} answered {status}: {first}") from None
    except Exception as exc:
        if not _is_network(exc):
            raise
        raise MmluMlError(f"--push {repo}: cannot reach {endpoint} ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:160]}); check the network or HF_ENDPOINT and export again, "
                          "or export without --push and upload the folder later") from None
    return f"{endpoint}/datasets/{repo}"


def _is_network(exc: BaseException) -> bool:
    # huggingface_hub raises its HTTP client's errors (requests' or httpx's, by version) for a failed connection
    from huggingface_hub.errors import OfflineModeIsEnabled

    library = type(exc).__module__.split(".")[0]
    return isinstance(exc, (OSError, OfflineModeIsEnabled)) or library.startswith(("httpx", "httpcore", "requests",
                                                                                      "urllib3"))
