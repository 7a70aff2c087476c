"""`mmlu-ml export hf-dataset`: the real CLI writes parquet and a card, the real `datasets` loads the folder back,
and every row equals our JSONL; --push runs the real huggingface_hub client against endpoints that fail."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path

import datasets
import pytest
import yaml

from conftest import assert_one_line_error, cli
from mmlu_ml.core.subjects import CATEGORY, SUBJECTS

FINGERPRINT = {"backend": "openai", "model": "gpt-4o-2024-08-06", "server": "api.openai.com/v1", "prompt": 3,
               "api_version": "2024-06-01", "temperature": 0}
CREATED = "2026-01-02T03:04:05+00:00"


def tricky_row(code: str, subject: str, split: str, index: int) -> dict:
    """Text that a template engine or a stripping step would change: braces, Jinja tags, edge whitespace, line
    breaks, non-Latin scripts, an empty choice."""
    word = {"de": "Größe", "ar": "السؤال", "ja": "質問"}.get(code, code)
    question = f"  {word} {{{{ choices[0] }}}} {{% if x %}} {subject}/{split}/{index}\n zweite Zeile\t "
    choices = [f" {word} A{index} ", "{{ question }}", "", f"D{index}\n"] if index % 2 else \
              [f"{word} ‘a’", f"b {index}", "c | pipe", "d\\n"]
    return {"id": f"{subject}/{split}/{index}", "subject": subject, "split": split, "language": code,
            "question": question, "choices": choices, "answer": "ABCD"[(index + len(subject)) % 4]}


def write_translation(out: Path, translator: str, code: str, subjects=SUBJECTS, splits=("dev", "test"),
                      per_split=None, limit=None) -> dict[str, list[dict]]:
    """A translation in our layout (rows + manifest per split), as the translate stage writes it."""
    per_split = per_split or {"dev": 5, "val": 2, "test": 2}
    folder = out / "translations" / translator / code
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split in splits:
        rows = [tricky_row(code, s, split, i) for s in subjects for i in range(per_split[split])]
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                               encoding="utf-8")
        checks = {"questions": len(rows), "strings": 5 * len(rows), "detector": "lingua",
                  "not_target_language": {"share": 0.125, "count": 1, "threshold": 0.1, "ids": [rows[0]["id"]]},
                  "loops": {"share": 0.0, "count": 0, "threshold": 0.01, "ids": []},
                  "failed": ["not_target_language"]}
        manifest = {"tool_version": "0.1.0", "translator": FINGERPRINT, "glossary": None, "source": "hf:cais/mmlu",
                    "source_hash": "ab" * 32, "language": code, "split": split, "subjects": list(subjects),
                    "limit": limit, "counts": {"questions": len(rows)}, "checks": checks, "created": CREATED}
        (folder / f"{split}.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        written[split] = rows
    return written


def read_card(folder: Path) -> tuple[dict, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(header), body


def load_rows(folder: Path, config: str, split: str, cache: Path) -> list[dict]:
    ds = datasets.load_dataset(str(folder), config, split=split, cache_dir=str(cache))
    letters = ds.features["answer"]
    return [{**row, "answer": letters.int2str(row["answer"])} for row in ds]


def assert_round_trip(folder: Path, code: str, split: str, rows: list[dict], cache: Path) -> None:
    loaded = load_rows(folder, code, split, cache)
    assert [r["id"] for r in loaded] == [r["id"] for r in rows]
    for got, want in zip(loaded, rows):
        assert got == {"id": want["id"], "subject": want["subject"], "category": CATEGORY[want["subject"]],
                       "question": want["question"], "choices": want["choices"], "answer": want["answer"]}


def test_complete_set_round_trips_through_load_dataset_with_a_card_naming_every_config(tmp_path):
    out = tmp_path / "results"
    written = {code: write_translation(out, "gpt4o", code, splits=("dev", "val", "test")) for code in ("de", "ar")}
    to = tmp_path / "export"
    proc = cli("export", "hf-dataset", "--translator", "gpt4o", "--out", out, "--to", to, "--strict", check=True)
    assert "partial" not in proc.stdout and f"wrote {to}" in proc.stdout
    for code, splits in written.items():
        for split, rows in splits.items():
            assert_round_trip(to, code, split, rows, tmp_path / "cache")

    header, body = read_card(to)
    assert [c["config_name"] for c in header["configs"]] == ["ar", "de"]
    for config in header["configs"]:
        assert [f["split"] for f in config["data_files"]] == ["dev", "val", "test"]
        assert all((to / f["path"]).is_file() for f in config["data_files"])
    assert header["license"] == "mit" and set(header["language"]) == {"de", "ar"}
    assert datasets.get_dataset_config_names(str(to)) == ["ar", "de"]
    # the provenance a user must see: source and licence, fingerprint, dates, tool version, coverage, checks
    for needle in ("hendrycks/test", "licence MIT", "gpt-4o-2024-08-06", "2024-06-01", "api.openai.com/v1",
                   "2026-01-02", "mmlu-ml 0.1.0", "57 of 57", "12.5% (1), max 10.0% FAILED", "not_target_language"):
        assert needle in body, needle
    provenance = json.loads((to / "mmlu_ml.json").read_text(encoding="utf-8"))
    de_test = provenance["languages"]["de"]["splits"]["test"]
    assert de_test["translator"] == FINGERPRINT and de_test["complete"] and de_test["questions"] == 2 * 57
    assert de_test["checks"]["failed"] == ["not_target_language"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once this returns: nothing listens there


class Refusing(http.server.BaseHTTPRequestHandler):
    """A hub that rejects every token, as huggingface.co does an invalid one."""

    def _refuse(self):
        body = b'{"error": "Invalid credentials in Authorization header"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _refuse

    def log_message(self, *args):
        pass


@pytest.fixture
def small(tmp_path):
    out = tmp_path / "results"
    write_translation(out, "gpt4o", "de", subjects=("astronomy",))
    return out


def no_leftovers(to: Path) -> None:
    assert not to.exists()
    assert not [p.name for p in to.parent.iterdir() if p.name.startswith(f".{to.name}.")]


def test_push_fails_in_one_line_and_leaves_nothing(small, tmp_path):
    to = tmp_path / "pushed"
    args = ["export", "hf-dataset", "--translator", "gpt4o", "--out", small, "--to", to, "--push", "someone/mmlu-de"]
    hub_home = {"HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "0", "HF_TOKEN": ""}

    unreachable = f"http://127.0.0.1:{closed_port()}"
    proc = cli(*args, env={**hub_home, "HF_ENDPOINT": unreachable, "HF_TOKEN": "hf_notarealtoken"})
    assert_one_line_error(proc, "--push someone/mmlu-de", f"cannot reach {unreachable}", "without --push")
    no_leftovers(to)

    assert_one_line_error(cli(*args, env={**hub_home, "HF_ENDPOINT": unreachable}), "not logged in", "HF_TOKEN")
    no_leftovers(to)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        proc = cli(*args, env={**hub_home, "HF_ENDPOINT": endpoint, "HF_TOKEN": "hf_notarealtoken"})
    finally:
        server.shutdown()
    assert_one_line_error(proc, "refused the token (401)", "HF_TOKEN")
    no_leftovers(to)

    assert_one_line_error(cli(*args[:-1], "not a/repo name"), "not a hub repository name")
    assert_one_line_error(cli("export", "lm-eval", *args[2:]), "--push uploads hf-dataset exports")
    no_leftovers(to)


def test_english_comes_from_identity_beside_another_translator(tmp_path):
    # `translate` always writes English through `identity`; asking another translator for en finds it there
    out = tmp_path / "results"
    de = write_translation(out, "gpt4o", "de", subjects=("astronomy",))
    en = write_translation(out, "identity", "en", subjects=("astronomy",))
    to = tmp_path / "export"
    cli("export", "hf-dataset", "--translator", "gpt4o", "--languages", "en,de", "--out", out, "--to", to, check=True)
    provenance = json.loads((to / "mmlu_ml.json").read_text())
    assert {c: lang["translations"] for c, lang in provenance["languages"].items()} == {"en": "identity",
                                                                                        "de": "gpt4o"}
    assert_round_trip(to, "en", "test", en["test"], tmp_path / "cache")
    assert_round_trip(to, "de", "dev", de["dev"], tmp_path / "cache")
    only = tmp_path / "default-languages"
    cli("export", "hf-dataset", "--translator", "gpt4o", "--out", out, "--to", only, check=True)
    assert [c["config_name"] for c in read_card(only)[0]["configs"]] == ["de"]
