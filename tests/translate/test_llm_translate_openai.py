"""The `openai` translator: the real openai SDK against the fake chat server of tests/support/fake_openai.py."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from support.fake_openai import FakeOpenAI, fake_translate, untranslate
from mmlu_ml.translate.translators.openai import OpenAITranslator
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.languages import load
from mmlu_ml.core.records import read_jsonl
from mmlu_ml.translate.llm.prompt import PROMPT_VERSION
from mmlu_ml.translate.stage import TranslationFailed
from support.stages import run_translate

L = load().languages
KEY = "sk-mmlu-ml-SECRET-4f1d2c"  # recognisable, so a test can search every output for it
TEXTS = [f"Which of the following is true of item {i}?" for i in range(11)] + ["None of the above", "HCl"]


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def make(server: FakeOpenAI, tmp_path: Path, **options) -> OpenAITranslator:
    options.setdefault("backoff_s", 0.0)
    return OpenAITranslator(server.model, tmp_path, base_url=server.url, **options)


def test_batches_come_back_in_order(tmp_path):
    with FakeOpenAI(key=KEY) as server:
        tr = make(server, tmp_path, concurrency=2)
        out = tr.translate(TEXTS, L["en"], L["fr"])
    assert out[:-1] == [fake_translate(t, "French") for t in TEXTS[:-1]]
    assert out[-1] == "HCl"  # a formula is kept, never sent
    sent = [json.loads(r["messages"][-1]["content"]) for r in server.requests]
    assert sorted(len(s) for s in sent) == [4, 8]  # max_items per request, 12 strings sent
    assert all(r["temperature"] == 0 and r["model"] == "fake-translator" for r in server.requests)
    assert tr.usage() == {"requests": 2, "billed_chars": sum(map(len, TEXTS[:-1]))}


@pytest.mark.parametrize("fault", ["malformed", "drop", "extra", "reorder", "empty", "not_object", "blank_value",
                                   "http_429", "http_500"])
def test_a_bad_reply_is_asked_again(fault, tmp_path):
    with FakeOpenAI(key=KEY, faults=[fault]) as server:
        out = make(server, tmp_path).translate(TEXTS[:5], L["en"], L["de"])
    assert out == [fake_translate(t, "German") for t in TEXTS[:5]]
    assert len(server.requests) == 2, fault  # one damaged reply (or status), one good


def test_a_server_that_wants_max_completion_tokens(tmp_path):
    with FakeOpenAI(key=KEY, reject_params={"max_tokens"}) as server:
        tr = make(server, tmp_path)
        assert tr.translate(TEXTS[:2], L["en"], L["fr"]) == [fake_translate(t, "French") for t in TEXTS[:2]]
        tr.translate(TEXTS[2:4], L["en"], L["fr"])
    assert [("max_tokens" in r, "max_completion_tokens" in r) for r in server.requests] == [
        (True, False), (False, True), (False, True)]  # learnt once, then used for every request


def test_a_fenced_reply_is_accepted_first_time(tmp_path):
    with FakeOpenAI(key=KEY, faults=["fence"]) as server:
        out = make(server, tmp_path).translate(TEXTS[:3], L["en"], L["de"])
    assert [untranslate(o, "German") for o in out] == TEXTS[:3] and len(server.requests) == 1


def test_a_string_that_never_comes_back_fails_alone(tmp_path):
    poison = TEXTS[3]
    with FakeOpenAI(key=KEY, poison={poison}) as server:
        out = make(server, tmp_path).translate(TEXTS[:8], L["en"], L["fr"])
    assert out[3] is None
    assert [untranslate(o, "French") for i, o in enumerate(out) if i != 3] == [t for i, t in enumerate(TEXTS[:8]) if i != 3]
    assert len(server.requests) <= 3 * 7  # bounded: 3 asks per batch while halving 8 -> 4 -> 2 -> 1


def test_server_errors_after_sdk_retries_give_none(tmp_path):
    with FakeOpenAI(key=KEY, faults=["http_500"] * 10) as server:
        out = make(server, tmp_path, max_retries=1).translate(TEXTS[:2], L["en"], L["fr"])
    assert out == [None, None] and server.statuses.count(500) == 2


def test_wrong_key_is_a_configuration_error_that_never_shows_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "-wrong")
    with FakeOpenAI(key=KEY) as server:
        with pytest.raises(MmluMlError) as err:
            make(server, tmp_path).translate(["Hello"], L["en"], L["fr"])
    assert "401" in str(err.value) and "OPENAI_API_KEY" in str(err.value)
    assert KEY not in str(err.value) and "SECRET" not in repr(err.value)


def test_unknown_model_names_the_fix(tmp_path):
    with FakeOpenAI(key=KEY) as server:
        tr = OpenAITranslator("no-such-model", tmp_path, base_url=server.url)
        with pytest.raises(MmluMlError, match="does not serve model 'no-such-model'"):
            tr.translate(["Hello"], L["en"], L["fr"])


def test_configuration_problems(tmp_path, monkeypatch, caplog):
    with pytest.raises(MmluMlError, match="--translator-model"):
        OpenAITranslator(None, tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY")
    caplog.set_level(logging.WARNING, logger="mmlu_ml.core.endpoints")
    remote = OpenAITranslator("gpt-x", tmp_path, base_url="https://llm.example.invalid/v1")
    with pytest.raises(MmluMlError, match="OPENAI_API_KEY is not set"):
        remote.preflight()
    OpenAITranslator("gpt-x", tmp_path, base_url="http://127.0.0.1:9/v1").preflight()  # loopback: no key needed
    assert caplog.records == []
    # the plain-http warning is core/endpoints.py's, logged (printed to stderr before issue 36)
    OpenAITranslator("gpt-x", tmp_path, base_url="http://10.1.2.4:8000/v1")
    assert "plain http" in caplog.text and "10.1.2.4" in caplog.text


def test_fingerprint_names_what_changes_the_output_and_no_secret(tmp_path):
    a = OpenAITranslator("m1", tmp_path, base_url="https://user:pw@host.example/v1?key=abc").fingerprint()
    b = OpenAITranslator("m2", tmp_path, base_url="https://host.example/v1").fingerprint()
    assert a["server"] == b["server"] == "https://host.example/v1" and a["model"] != b["model"]
    assert {"backend", "model", "server", "prompt"} <= set(a)
    assert KEY not in json.dumps(a) and "pw" not in json.dumps(a)
    # pinned whole: cache keys and committed translations hang on it (issue 36 moved the client, not this)
    assert a == {"backend": "openai", "model": "m1", "server": "https://host.example/v1", "prompt": PROMPT_VERSION,
                 "temperature": 0, "batch": 8}


def test_stage_writes_translations_and_a_rerun_sends_nothing(tiny_source, tmp_path, monkeypatch):
    with FakeOpenAI(key=KEY) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        args = dict(source=str(tiny_source), languages="en,fr", subjects="astronomy", splits="dev", limit=3,
                    cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="openai",
                    translator_model=server.model, concurrency=2, chars_per_hour=10**9,
                    dry_run=False, strict=False)
        run_translate(**args)
        first = len(server.requests)
        run_translate(**args)
        assert first > 0 and len(server.requests) == first  # all from the cache
    folder = tmp_path / "out" / "translations" / "openai" / "fr"
    rows = list(read_jsonl(folder / "dev.jsonl"))
    english = list(read_jsonl(tmp_path / "out" / "translations" / "identity" / "en" / "dev.jsonl"))
    assert [r["id"] for r in rows] == [r["id"] for r in english] and len(rows) == 3
    for fr, en in zip(rows, english):
        assert untranslate(fr["question"], "French") == en["question"] and fr["answer"] == en["answer"]
        assert [untranslate(c, "French") for c in fr["choices"]] == en["choices"]
    manifest = json.loads((folder / "dev.manifest.json").read_text())
    assert manifest["translator"]["backend"] == "openai" and "checks" in manifest
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == []


def test_stage_reports_a_string_that_failed_and_writes_no_split(tiny_source, tmp_path, monkeypatch):
    with FakeOpenAI(key=KEY, poison={"astronomy dev question 1?"}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        with pytest.raises(TranslationFailed, match="astronomy/dev/1"):
            run_translate(source=str(tiny_source), languages="fr", subjects="astronomy", splits="dev", limit=3,
                          cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="openai",
                          translator_model=server.model, concurrency=1, chars_per_hour=10**9,
                          dry_run=False, strict=False)
    assert not (tmp_path / "out" / "translations" / "openai" / "fr" / "dev.jsonl").exists()
    assert os.environ["OPENAI_API_KEY"] == KEY
