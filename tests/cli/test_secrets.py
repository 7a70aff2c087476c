"""Reliability: an API key reaches the server and nothing else - no result, manifest, cache, log, progress
line or error text - for every backend that takes one, on success and on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cli
from support.fake_azure import FakeAzure
from support.fake_openai import FakeOpenAI, completion, scripted

SECRET = "sk-RECOGNISABLE-9d2c41e7aa"
WRONG = "sk-WRONG-KEY-5b8e3f0c11"


def leaks(root: Path, outputs: list[str], *secrets: str) -> list[str]:
    found = [f"output {i}" for i, text in enumerate(outputs) for s in secrets if s in text]
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [str(path.relative_to(root)) for s in secrets if s.encode() in data]
    return found


def common(src, tmp_path):
    return ["--source", src, "--subjects", "astronomy", "--limit", "2",
            "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_TRANSLATOR_KEY", "AZURE_TRANSLATOR_REGION",
                 "AZURE_TRANSLATOR_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def test_azure_key_never_written(tiny_source, tmp_path):
    outputs = []
    with FakeAzure(key=SECRET) as fake:
        ok = cli("translate", "--translator", "azure", "--languages", "sw", "--splits", "dev,test",
                 *common(tiny_source, tmp_path), env={"AZURE_TRANSLATOR_KEY": SECRET,
                                                      "AZURE_TRANSLATOR_ENDPOINT": fake.endpoint})
        outputs += [ok.stdout, ok.stderr]
        assert ok.returncode == 0, ok.stderr
        assert (tmp_path / "out" / "translations" / "azure" / "sw" / "test.jsonl").exists()
        bad = cli("translate", "--translator", "azure", "--languages", "cy", "--splits", "dev",
                  *common(tiny_source, tmp_path), env={"AZURE_TRANSLATOR_KEY": WRONG,
                                                       "AZURE_TRANSLATOR_ENDPOINT": fake.endpoint})
        outputs += [bad.stdout, bad.stderr]
        assert bad.returncode != 0
    assert leaks(tmp_path, outputs, SECRET, WRONG) == []


def test_openai_translator_key_never_written(tiny_source, tmp_path):
    outputs = []
    with FakeOpenAI(key=SECRET) as server:
        env = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.url}
        ok = cli("translate", "--translator", "openai", "--translator-model", server.model, "--languages", "de",
                 "--splits", "dev,test", *common(tiny_source, tmp_path), env=env)
        outputs += [ok.stdout, ok.stderr]
        assert ok.returncode == 0, ok.stderr
        # the fake echoes a wrong key in its 401 message, as careless servers do
        bad = cli("translate", "--translator", "openai", "--translator-model", server.model, "--languages", "fr",
                  "--splits", "dev", *common(tiny_source, tmp_path), env={**env, "OPENAI_API_KEY": WRONG})
        outputs += [bad.stdout, bad.stderr]
        assert bad.returncode != 0
    assert leaks(tmp_path, outputs, SECRET, WRONG) == []


def test_openai_model_key_never_written(tiny_source, tmp_path):
    def answer(body, headers):
        if headers.get("Authorization") != f"Bearer {SECRET}":
            return 401, {"error": {"message": f"Incorrect API key provided: {headers.get('Authorization')}"}}
        return 200, completion({" A": -1.0, " B": -0.5, " C": -2.0, " D": -3.0})

    server = FakeOpenAI(handle=scripted(completions=answer))
    try:
        args = ["evaluate", "--model", "openai:fake-model", "--base-url", server.url, "--protocol", "mmlu5",
                "--languages", "en", "--model-concurrency", "1"]
        ok = cli(*args, *common(tiny_source, tmp_path), env={"OPENAI_API_KEY": SECRET})
        assert ok.returncode == 0, ok.stderr
        bad = cli(*args, *common(tiny_source, tmp_path / "second"), env={"OPENAI_API_KEY": WRONG})
        assert bad.returncode != 0
        outputs = [ok.stdout, ok.stderr, bad.stdout, bad.stderr]
    finally:
        server.close()
    assert (tmp_path / "out" / "scores.csv").exists()
    assert any(f"Bearer {SECRET}" == {k.lower(): v for k, v in r[2].items()}.get("authorization")
               for r in server.calls)  # it did reach the server
    assert leaks(tmp_path, outputs, SECRET, WRONG) == []
