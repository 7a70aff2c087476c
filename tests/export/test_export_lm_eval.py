"""`mmlu-ml export lm-eval`: lm-eval's real TaskManager loads the exported task folder, and the requests it builds
for every test question (the prompt and the continuations scored) equal our mmlu5 protocol's, byte for byte."""

from __future__ import annotations

import importlib.metadata
import json
from collections import defaultdict
from pathlib import Path

import datasets
import pytest
from lm_eval.tasks import TaskManager

from conftest import assert_one_line_error, cli
from mmlu_ml.core.languages import load as load_languages
from mmlu_ml.core.records import LETTERS, Question, read_jsonl
from mmlu_ml.core.subjects import CATEGORY, SUBJECTS
from mmlu_ml.core.protocols import get as get_protocol
from mmlu_ml.export.lm_eval import LM_EVAL_VERSION
from test_export_hf_dataset import assert_round_trip, read_card, write_translation

LANGUAGES = load_languages().languages


@pytest.fixture(autouse=True)
def own_datasets_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def our_requests(folder: Path) -> dict[str, tuple[str, list[str], int]]:
    """id -> (our mmlu5 prompt, the continuations it scores, the right one) for every test question of a
    translation folder."""
    protocol = get_protocol("mmlu5")
    shots: dict[str, list[Question]] = defaultdict(list)
    if (folder / "dev.jsonl").exists():
        for row in read_jsonl(folder / "dev.jsonl"):
            shots[row["subject"]].append(Question.from_json(row))
    language = LANGUAGES[folder.name]
    out = {}
    for row in read_jsonl(folder / "test.jsonl"):
        q = Question.from_json(row)
        prefix = protocol.prefix(q.subject, language, sorted(shots[q.subject], key=lambda s: s.index), None)
        out[q.id] = (prefix + protocol.suffix(q, language), list(protocol.letters), LETTERS.index(q.answer))
    return out


def lm_eval_requests(folder: Path, group: str, metadata=None):
    """(language, id) -> (context, continuations, gold index) of the Instances lm-eval would send, built as its
    evaluator builds them; and what TaskManager.load returned."""
    manager = TaskManager(include_path=str(folder), include_defaults=False, metadata=metadata)
    loaded = manager.load([group])
    out = {}
    for name, task in loaded["tasks"].items():
        task.build_all_requests(rank=0, world_size=1)
        per_doc = defaultdict(list)
        for instance in task.instances:
            per_doc[instance.doc["id"]].append(instance)
        for doc_id, instances in per_doc.items():
            contexts = {i.arguments[0] for i in instances}
            assert len(contexts) == 1, name
            out[(task.config.metadata["language"], doc_id)] = (
                contexts.pop(), [i.arguments[1] for i in sorted(instances, key=lambda i: i.idx)],
                task.doc_to_target(instances[0].doc))
    return out, loaded


def assert_same_requests(got: dict, out: Path, translator: str, codes) -> None:
    ours = {(code, k): v for code in codes
            for k, v in our_requests(out / "translations" / translator / code).items()}
    assert set(got) == set(ours)
    for key, (context, continuations, gold) in got.items():
        assert context == ours[key][0], key
        assert continuations == ours[key][1] == [" A", " B", " C", " D"]
        assert gold == ours[key][2], key


def test_the_pinned_lm_eval_is_the_one_installed():
    assert importlib.metadata.version("lm_eval") == LM_EVAL_VERSION


def test_complete_translation_lm_eval_prompts_equal_mmlu5_byte_for_byte(tmp_path):
    out = tmp_path / "results"
    write_translation(out, "gpt4o", "de", per_split={"dev": 5, "test": 2})
    write_translation(out, "gpt4o", "ja", subjects=("astronomy", "marketing", "virology"),
                      per_split={"dev": 5, "test": 3})
    to = tmp_path / "tasks"
    proc = cli("export", "lm-eval", "--translator", "gpt4o", "--out", out, "--to", to, check=True)
    assert "lm_eval --include_path" in proc.stdout and "partial: ja: dev: 3 of 57 subjects; test: 3 of 57 subjects" \
        in proc.stdout

    got, loaded = lm_eval_requests(to, "mmlu_ml_gpt4o")
    assert len(got) == 2 * len(SUBJECTS) + 9
    assert_same_requests(got, out, "gpt4o", ("de", "ja"))
    assert all(task.config.num_fewshot == 5 for task in loaded["tasks"].values())
    groups = loaded["group_map"]
    assert groups["mmlu_ml_gpt4o"] == ["mmlu_ml_gpt4o_de", "mmlu_ml_gpt4o_ja"]
    assert groups["mmlu_ml_gpt4o_de"] == [f"mmlu_ml_gpt4o_de_{c}" for c in ("stem", "humanities", "social_sciences",
                                                                            "other")]
    assert groups["mmlu_ml_gpt4o_ja"] == ["mmlu_ml_gpt4o_ja_stem", "mmlu_ml_gpt4o_ja_other"]  # no empty category
    assert {CATEGORY[s] for s in ("marketing", "virology")} == {"other"}
    assert sorted(groups["mmlu_ml_gpt4o_ja_other"]) == ["mmlu_ml_gpt4o_ja_marketing", "mmlu_ml_gpt4o_ja_virology"]
    assert sorted(n for n in loaded["tasks"] if n.startswith("mmlu_ml_gpt4o_de_")) == \
        sorted(f"mmlu_ml_gpt4o_de_{s}" for s in SUBJECTS)


def test_demo_shaped_translation_exports_to_both_formats(mmlu_dir, tmp_path):
    # what `make demo` leaves: 3 subjects, the first 3 dev questions (gpt4's shots), the first 5 test ones
    out, cache = tmp_path / "results", tmp_path / "cache"
    common = ["--translator", "identity", "--languages", "en,de", "--source", mmlu_dir,
              "--subjects", "astronomy,high_school_geography,marketing", "--cache-dir", cache, "--out", out]
    cli("translate", *common, "--splits", "dev", "--limit", "3", check=True)
    cli("translate", *common, "--splits", "test", "--limit", "5", check=True)

    # hf-dataset: every row back through load_dataset, the coverage stated; --strict refuses it
    hub = tmp_path / "demo-dataset"
    proc = cli("export", "hf-dataset", "--translator", "identity", "--out", out, "--to", hub, check=True)
    assert "partial: de: dev: 3 of 57 subjects" in proc.stdout
    for code in ("de", "en"):
        for split in ("dev", "test"):
            rows = list(read_jsonl(out / "translations" / "identity" / code / f"{split}.jsonl"))
            assert len(rows) == (9 if split == "dev" else 15)
            assert_round_trip(hub, code, split, rows, tmp_path / "hf-cache")
    header, body = read_card(hub)
    assert [c["config_name"] for c in header["configs"]] == ["de", "en"]
    assert "**Partial translation.**" in body and "first 5 questions per subject" in body
    assert "| de | test | 15 | 3 of 57 | 5 | no |" in body
    assert "skipped (identity)" in body and "echoed_english" in body  # English copied, German checked
    gaps = json.loads((hub / "mmlu_ml.json").read_text())["languages"]["de"]["gaps"]
    assert "dev: fewer than 5 shots for 3 subjects (e.g. astronomy)" in gaps
    strict = tmp_path / "strict"
    assert_one_line_error(cli("export", "hf-dataset", "--translator", "identity", "--out", out, "--to", strict,
                              "--strict"), "--strict", "partial", "mmlu-ml translate")
    assert not strict.exists()

    # lm-eval: the tasks take the 3 shots there are, as our protocol does, and say so
    to = tmp_path / "demo-tasks"
    cli("export", "lm-eval", "--translator", "identity", "--out", out, "--to", to, check=True)
    provenance = json.loads((to / "mmlu_ml.json").read_text())
    assert provenance["fewer_shots"]["de"] == {"astronomy": 3, "high_school_geography": 3, "marketing": 3}
    assert "Fewer than 5 shots" in (to / "README.md").read_text()
    got, loaded = lm_eval_requests(to, "mmlu_ml_identity")
    assert len(got) == 30
    assert_same_requests(got, out, "identity", ("de", "en"))
    assert all(task.config.num_fewshot == 3 for task in loaded["tasks"].values())

    # the same tasks over another copy of the dataset (a hub repository id works the same way)
    rows = list(read_jsonl(out / "translations" / "identity" / "de" / "test.jsonl"))
    rows[0]["question"] = "edited in the copy"
    (out / "translations" / "identity" / "de" / "test.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cli("export", "hf-dataset", "--translator", "identity", "--languages", "de", "--out", out, "--to", hub,
        "--force", check=True)
    got, _ = lm_eval_requests(to, "mmlu_ml_identity_de", metadata={"dataset": str(hub)})
    assert_same_requests(got, out, "identity", ("de",))
    assert "edited in the copy\nA. " in got[("de", rows[0]["id"])][0]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "results"
    write_translation(out, "gpt4o", "de", subjects=("astronomy", "virology"))
    to = tmp_path / "tasks"

    def refused(*args, needles):
        assert_one_line_error(cli("export", *args), *needles)
        assert not to.exists() and not [p for p in to.parent.iterdir() if p.name.startswith(".tasks.")]

    base = ["--out", out, "--to", to]
    refused("lm-eval", "--translator", "deepl", *base, needles=("no translations by deepl", "translators there: gpt4o",
                                                                 "mmlu-ml translate --translator deepl"))
    refused("lm-eval", "--translator", "gpt4o", "--languages", "fr", *base,
            needles=("no gpt4o translation of fr", "it has: de", "--languages fr"))
    refused("lm-eval", "--translator", "gpt4o", "--languages", "xx", *base, needles=("unknown language 'xx'",))
    refused("lm-eval", "--translator", "gpt4o", "--strict", *base, needles=("--strict", "2 of 57 subjects"))
    refused("csv", "--translator", "gpt4o", *base, needles=("FORMAT", "hf-dataset"))

    folder = out / "translations" / "gpt4o" / "de"
    (folder / "dev.jsonl").write_text("".join(line + "\n" for line in (folder / "dev.jsonl").read_text()
                                              .splitlines() if not line.startswith('{"id": "virology/')))
    refused("lm-eval", "--translator", "gpt4o", *base, needles=("dev.jsonl holds 5 questions but its manifest "
                                                                "counted 10",))
    (folder / "dev.jsonl").unlink()
    (folder / "dev.manifest.json").unlink()
    refused("lm-eval", "--translator", "gpt4o", *base,
            needles=("no translated dev questions", "astronomy", "--splits dev --subjects astronomy,virology"))
    (folder / "test.manifest.json").unlink()
    refused("hf-dataset", "--translator", "gpt4o", *base, needles=("test.jsonl has no manifest",))
    write_translation(out, "gpt4o", "de", subjects=("astronomy",))
    rows = (folder / "test.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "test.jsonl").write_text("\n".join(rows[:1] + [rows[1].replace('"answer": "', '"answer": "E')])
                                       + "\n", encoding="utf-8")
    refused("hf-dataset", "--translator", "gpt4o", *base, needles=("test.jsonl:2", "is not one of A, B, C, D"))

    # the --to folder: a file, someone else's folder (even with --force), an earlier export (only with --force)
    write_translation(out, "gpt4o", "de", subjects=("astronomy",))
    to.write_text("x")
    assert_one_line_error(cli("export", "hf-dataset", "--translator", "gpt4o", *base), "is a file")
    to.unlink()
    to.mkdir()
    (to / ".git").mkdir()
    for extra in ([], ["--force"]):
        proc = cli("export", "lm-eval", "--translator", "gpt4o", *base, *extra)
        assert_one_line_error(proc, "not empty" if not extra else "not an earlier mmlu-ml export")
        assert [p.name for p in to.iterdir()] == [".git"]
    (to / ".git").rmdir()
    cli("export", "lm-eval", "--translator", "gpt4o", *base, check=True)  # an empty folder is fine
    first = (to / "mmlu_ml.json").read_text()
    assert_one_line_error(cli("export", "lm-eval", "--translator", "gpt4o", *base), "--force")
    assert (to / "mmlu_ml.json").read_text() == first
    cli("export", "hf-dataset", "--translator", "gpt4o", *base, "--force", check=True)
    assert json.loads((to / "mmlu_ml.json").read_text())["format"] == "hf-dataset"
    assert not (to / "utils.py").exists()  # replaced whole, not merged
    assert not [p for p in to.parent.iterdir() if p.name.startswith(".tasks.")]
