"""Reliability: server faults of every kind are retried with bounded backoff, then reported per string -
never written as a translation. (Model-side faults: tests/test_openai_model_faults.py; LLM translator
faults - malformed, dropped, reordered items: tests/translate/test_llm_translate_openai.py.)"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import ROOT, assert_one_line_error, cli, write_csv
from support.fake_azure import DROP, SHORT, SLOW, TRUNC
from mmlu_ml.core import languages
from mmlu_ml.core.errors import MmluMlError
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


# -- hostile conditions (issue 38): a full disk, a key echoed back, Ctrl-C, permanent faults ----------------------

def _args(source, tmp_path, *extra) -> list:
    return ["translate", "--translator", "azure", "--languages", "sw", "--splits", "dev", "--source", source,
            "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out", "--concurrency", "1", *extra]


def _env(fake) -> dict:
    return {"AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake.endpoint, "MMLU_ML_TRANSLATOR_MODEL": ""}


def test_a_full_disk_stops_at_once_with_the_os_error_then_a_rerun_pays_only_for_the_rest(mmlu_dir, fake_azure,
                                                                                       tmp_path):
    """The cache's file may not grow past 64 KiB (RLIMIT_FSIZE, as `ulimit -f` sets it): the first batch's commit
    fails, nothing more is sent, and the one line is the OS's reason with the file named."""
    import resource

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))

    args = [sys.executable, "-m", "mmlu_ml.cli", *map(str, _args(mmlu_dir, tmp_path))]
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **_env(fake_azure)}, cwd=ROOT,
                          timeout=300, preexec_fn=limited)
    assert_one_line_error(proc, "cannot write the cache", "translations.sqlite", "file too large", "free space")
    # dev of all subjects is 3 requests; the first one's commit failed, and at most the one that took its slot
    # while it was committing had gone out: the third was never sent
    paid = fake_azure.snapshot()
    assert paid["requests"] <= 2
    cli(*_args(mmlu_dir, tmp_path), env=_env(fake_azure), check=True)  # space freed: the same command
    rerun = fake_azure.snapshot()["elements"] - paid.get("elements", 0)
    cli(*_args(mmlu_dir, tmp_path / "clean"), env=_env(fake_azure), check=True)
    assert rerun == fake_azure.snapshot()["elements"] - paid.get("elements", 0) - rerun  # as a clean run


@pytest.mark.fake_azure(key=KEY, echo_key=True, languages={"cy"})
def test_a_key_the_server_echoes_is_scrubbed_from_stderr_and_files(tiny_source, fake_azure, tmp_path):
    proc = cli(*_args(tiny_source, tmp_path, "--subjects", "astronomy,virology"), env=_env(fake_azure))
    assert_one_line_error(proc, "rejected a request", "***")
    assert KEY not in proc.stderr + proc.stdout
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or KEY.encode() not in path.read_bytes(), path


def test_ctrl_c_stops_within_seconds_while_a_request_hangs(mmlu_dir, fake_azure, tmp_path):
    """The first batch comes back and is cached; the second hangs for a minute; SIGINT ends the run in seconds."""
    fake_azure.slow_s = 60
    fake_azure.script = [200, SLOW, SLOW]
    args = [sys.executable, "-m", "mmlu_ml.cli", *map(str, _args(mmlu_dir, tmp_path))]
    proc = subprocess.Popen(args, env={**os.environ, **_env(fake_azure)}, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while fake_azure.snapshot().get("requests", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert took < 5 and proc.returncode == 130, (took, proc.returncode, err)
    assert "interrupted" in err and "run the same command to resume" in err and "Traceback" not in err
    with sqlite3.connect(tmp_path / "cache" / "translations.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM translations").fetchone()[0] > 0  # the first batch is kept
    assert not list((tmp_path / "out").rglob("*.jsonl"))


def test_a_404_on_the_endpoint_path_is_permanent(fake_azure, monkeypatch):
    monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", fake_azure.endpoint + "/translatr")
    with pytest.raises(MmluMlError, match=r"AZURE_TRANSLATOR_ENDPOINT .*/translatr answers 404.*check the path"):
        AzureTranslator(None, None).translate(["Hello"], EN, SW)
    assert fake_azure.snapshot().get("requests", 0) == 0  # the fake counts only what reached /translate


def test_a_host_that_does_not_resolve_is_named(monkeypatch):
    monkeypatch.setenv("AZURE_TRANSLATOR_KEY", KEY)
    monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", "http://no-such-host.invalid")
    with pytest.raises(MmluMlError, match="'no-such-host.invalid' of AZURE_TRANSLATOR_ENDPOINT does not resolve"):
        AzureTranslator(None, None).translate(["Hello"], EN, SW)


def test_the_openai_translator_names_a_host_that_does_not_resolve(monkeypatch):
    from mmlu_ml.translate.translators.openai import OpenAITranslator

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-5521")
    tr = OpenAITranslator("some-model", None, base_url="http://no-such-host.invalid/v1", max_retries=0)
    with pytest.raises(MmluMlError, match="'no-such-host.invalid' .* does not resolve"):
        tr.translate(["Hello"], EN, SW)


def test_a_string_over_the_request_limit_is_refused_up_front(tmp_path, fake_azure):
    root = tmp_path / "mmlu"
    write_csv(root / "dev" / "astronomy_dev.csv", [["Short question?", "a", "b", "c", "d", "A"],
                                                   ["Long " * 12_000 + "?", "a", "b", "c", "d", "B"]])
    proc = cli(*_args(root, tmp_path, "--subjects", "astronomy"), env=_env(fake_azure))
    assert_one_line_error(proc, "astronomy", "over the azure translator's limit of 50,000")
    assert "run the same command again" not in proc.stderr
    assert fake_azure.snapshot().get("requests", 0) == 0
