"""Reliability: server faults of every kind are retried with bounded backoff, then reported per string -
never written as a translation. (Model-side faults: tests/test_openai_model_faults.py; LLM translator
faults - malformed, dropped, reordered items: tests/translate/test_llm_translate_openai.py.)"""

from __future__ import annotations

import json

import pytest

from conftest import cli
from support.fake_azure import DROP, SHORT, SLOW, TRUNC
from mmlu_ml.core import languages
from mmlu_ml.translate.translators.azure import AzureTranslator

KEY = "faults-key-4471"
pytestmark = pytest.mark.fake_azure(key=KEY, retry_after_5xx=True)
TABLE = languages.load()
EN, SW = TABLE.languages["en"], TABLE.languages["sw"]




def test_bursts_of_429_500_503_then_success(fake_azure):
    fake_azure.script = [429, 429, 500, 503, 503, 429]
    tr = AzureTranslator(None, None)
    assert tr.translate(["Hello"], EN, SW) == ["[sw] Uryyb"]
    assert tr.usage()["requests"] == 7


def test_truncated_json_is_asked_again_then_reported(fake_azure):
    fake_azure.script = [TRUNC]
    tr = AzureTranslator(None, None)
    assert tr.translate(["Hello", "World"], EN, SW) == ["[sw] Uryyb", "[sw] Jbeyq"]
    fake_azure.script = [TRUNC, SHORT, TRUNC]
    assert tr.translate(["Hello", "World"], EN, SW) == [None, None]
    assert tr.usage()["malformed_replies"] == 4


def test_timeouts_are_retried(fake_azure, monkeypatch):
    monkeypatch.setenv("MMLU_ML_AZURE_TIMEOUT", "0.5")
    fake_azure.slow_s = 1.5
    fake_azure.script = [SLOW]
    tr = AzureTranslator(None, None)
    assert tr.translate(["Hello"], EN, SW) == ["[sw] Uryyb"]
    assert tr.usage()["requests"] == 2


def test_faulty_server_through_the_stage_writes_only_whole_correct_files(tiny_source, fake_azure, tmp_path):
    """A run against a server that drops, truncates, shortens and throttles still ends complete and equal to
    a clean run; when a string cannot be had, nothing of its split is written."""
    fake_azure.script = [DROP, TRUNC, 429, SHORT, 500, 503]
    args = ["translate", "--translator", "azure", "--languages", "sw", "--splits", "dev,test", "--source", tiny_source,
            "--subjects", "astronomy,virology", "--concurrency", "2"]
    env = {"AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake_azure.endpoint}
    cli(*args, "--cache-dir", tmp_path / "c1", "--out", tmp_path / "o1", env=env, check=True)
    cli(*args, "--cache-dir", tmp_path / "c2", "--out", tmp_path / "o2", env=env, check=True)
    for split in ("dev", "test"):
        a = (tmp_path / "o1" / "translations" / "azure" / "sw" / f"{split}.jsonl").read_text(encoding="utf-8")
        b = (tmp_path / "o2" / "translations" / "azure" / "sw" / f"{split}.jsonl").read_text(encoding="utf-8")
        assert a == b and all(json.loads(line)["question"].startswith("[sw] ") for line in a.splitlines())

    fake_azure.script = [500] * 40  # more than the bounded retries of every request
    proc = cli(*args, "--languages", "cy", "--cache-dir", tmp_path / "c3", "--out", tmp_path / "o3", env=env)
    assert proc.returncode == 1, proc.stderr
    assert not list((tmp_path / "o3").rglob("*.jsonl"))
