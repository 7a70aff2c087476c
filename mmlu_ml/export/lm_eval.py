"""Format `lm-eval`: an lm-evaluation-harness task folder over the hf-dataset export of the same translations
(written into `dataset/` inside it), laid out as lm-eval's own multilingual MMLU tasks (openai-mmmlu,
global_mmlu): a group for the translator, one per language, one per language and category, and a task per
language and subject, whose shots are the subject's own first dev questions.

The prompt is our `mmlu5` protocol's byte for byte (core/protocols.py; the tests build it with lm-eval's own API and
compare): the English description line, a blank line, the shots `question\\nA. ..\\nAnswer: X` separated by a blank
line, then the question ending in `Answer:`; choices " A".." D" are scored. Where a subject has fewer than 5 dev
questions translated, its task takes as many as there are (our protocol does the same), and the card says so."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from ..core import templates
from ..core.errors import MmluMlError
from ..core.records import write_atomic, write_json
from ..core.subjects import CATEGORIES, CATEGORY, pretty
from ..core.protocols import get as get_protocol
from . import hf_dataset
from .translations import LanguageSet

LM_EVAL_VERSION = "0.4.13"  # what these files are tested with (setup.cfg's test extra)
TEMPLATE = "_mmlu_ml_template_yaml"  # no .yaml suffix: lm-eval indexes it as an include, not a task

# doc_to_text is protocols.Protocol.block for mmlu5 in Jinja: the question stripped, the choices as they are
TEMPLATE_TEXT = r"""# Written by `mmlu-ml export lm-eval`: what every task here shares. The prompt is mmlu-ml's mmlu5
# protocol (lm-eval's own mmlu prompt) over the translated questions; each task adds its subject's description line.
custom_dataset: !function utils.load
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: multiple_choice
doc_to_text: "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
target_delimiter: " "
fewshot_delimiter: "\n\n"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""
AGGREGATE = [{"metric": "acc", "weight_by_size": True}]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def group_name(translator: str) -> str:
    return f"mmlu_ml_{_slug(translator)}"


def shots_of(s: LanguageSet) -> dict[str, int]:
    """Shots per tested subject: up to the protocol's 5, from the subject's translated dev questions."""
    wanted = get_protocol("mmlu5").shots
    dev = s.splits["dev"].per_subject() if "dev" in s.splits else {}
    shots = {subject: min(wanted, dev.get(subject, 0)) for subject in s.splits["test"].subjects}
    bare = [subject for subject, n in shots.items() if n == 0]
    if bare:
        raise MmluMlError(f"{s.code}: {len(bare)} tested subjects have no translated dev questions for the mmlu5 "
                          f"prompt's shots (first: {bare[0]}); translate them with: mmlu-ml translate --translator "
                          f"{s.translator} --languages {s.code} --splits dev --subjects {','.join(bare)}")
    return shots


class _Dumper(yaml.SafeDumper):
    """Strings with line breaks (the descriptions) double-quoted with `\\n`, as lm-eval's own YAMLs write them."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if "\n" in value else None))


def _dump(path: Path, obj: dict) -> None:
    write_atomic(path, yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000))


def export(sets: list[LanguageSet], folder: Path, context: dict) -> dict:
    shots = {s.code: shots_of(s) for s in sets}  # refused before anything is written
    provenance = hf_dataset.export(sets, folder / "dataset", context)
    shutil.copyfile(Path(__file__).with_name("lm_eval_utils.py"), folder / "utils.py")
    write_atomic(folder / TEMPLATE, TEMPLATE_TEXT)
    top = group_name(context["translator"])
    languages = []
    for s in sets:
        lang = f"{top}_{_slug(s.code)}"
        sub = folder / _slug(s.code)
        sub.mkdir()
        categories = []
        for category in CATEGORIES:
            subjects = [x for x in shots[s.code] if CATEGORY[x] == category]
            if not subjects:
                continue  # a partial export: an empty category would be a group without tasks
            group = f"{lang}_{_slug(category)}"
            categories.append(group)
            _dump(sub / f"_{group}.yaml", {"group": group, "group_alias": category, "task": [f"{group}_tasks"],
                                           "aggregate_metric_list": AGGREGATE, "metadata": {"version": 1.0}})
            for subject in subjects:
                _dump(sub / f"{lang}_{subject}.yaml", {
                    "include": f"../{TEMPLATE}", "task": f"{lang}_{subject}", "task_alias": pretty(subject),
                    "tag": f"{group}_tasks",
                    "description": templates.MMLU5.format(subject=pretty(subject)) + "\n\n",
                    "num_fewshot": shots[s.code][subject],
                    "metadata": {"version": 1.0, "language": s.code, "subject": subject}})
        languages.append(lang)
        _dump(sub / f"_{lang}.yaml", {"group": lang, "group_alias": f"{s.code} ({s.translator})", "task": categories,
                                      "aggregate_metric_list": AGGREGATE, "metadata": {"version": 1.0}})
    _dump(folder / f"_{top}.yaml", {"group": top, "group_alias": f"MMLU translated by {context['translator']}",
                                    "task": languages, "aggregate_metric_list": AGGREGATE,
                                    "metadata": {"version": 1.0}})
    short = {c: {k: n for k, n in v.items() if n < get_protocol("mmlu5").shots} for c, v in shots.items()}
    provenance = {**provenance, "format": "lm-eval", "lm_eval": LM_EVAL_VERSION, "group": top,
                  "tasks": {s.code: f"{top}_{_slug(s.code)}" for s in sets},
                  "fewer_shots": {c: v for c, v in short.items() if v}}
    write_json(folder / hf_dataset.MARKER, provenance)
    write_atomic(folder / "README.md", _readme(top, sets, provenance))
    return provenance


def _readme(top: str, sets: list[LanguageSet], provenance: dict) -> str:
    first = provenance["tasks"][sets[0].code]
    lines = [
        f"# lm-evaluation-harness tasks: MMLU translated by {provenance['translator']} (mmlu-ml)", "",
        f"Written by mmlu-ml {provenance['tool_version']} on {provenance['exported'][:10]}, tested with lm-eval "
        f"{LM_EVAL_VERSION}. The questions are in `dataset/` (a hub-ready dataset; its README is the card with the "
        "translation's provenance, coverage and check results).", "",
        "```sh",
        f"lm_eval --include_path {{this folder}} --tasks {top} --model hf --model_args pretrained=...",
        f"lm_eval --include_path {{this folder}} --tasks {first} ...   # one language",
        "# the same tasks over a hub copy of dataset/:",
        f"lm_eval --include_path {{this folder}} --tasks {top} --metadata '{{\"dataset\": \"user/repo\"}}' ...",
        "```", "",
        f"Groups: `{top}` (all languages), " + ", ".join(f"`{t}`" for t in provenance["tasks"].values())
        + " (one language), `<language group>_<category>`; tasks `<language group>_<subject>`.", "",
        "Prompt: mmlu-ml's `mmlu5` protocol, which is lm-eval's own `mmlu` prompt: the English line `The following "
        "are multiple choice questions (with answers) about <subject>.`, the subject's first 5 dev questions with "
        "their answers, then the question; options `A. ...`, the log-likelihoods of ` A`..` D` compared.",
    ]
    if provenance["fewer_shots"]:
        lines += ["", "Fewer than 5 shots (too few dev questions translated): " + "; ".join(
            f"{c}: {', '.join(f'{k} {n}' for k, n in v.items())}" for c, v in provenance["fewer_shots"].items())]
    return "\n".join(lines) + "\n"
