"""Runs of the translate stage at once on one cache or one results folder: real processes (the CLI), the real
Azure SDK, the fake Azure Translator; the second run of a language waits for the first and pays for nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT, cli

KEY = "azure-key-7f3b2c91e0d4"
pytestmark = pytest.mark.fake_azure(key=KEY, latency=2.0)


def _translate(fake_azure, source, cache, out):
    args = ["translate", "--source", source, "--translator", "azure", "--languages", "sw", "--splits", "dev,test",
            "--subjects", "astronomy,virology", "--cache-dir", cache, "--out", out]
    env = {**os.environ, "AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake_azure.endpoint,
           "MMLU_ML_TRANSLATOR_MODEL": ""}
    return subprocess.Popen([sys.executable, "-m", "mmlu_ml.cli", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("shared", ["cache", "out"])
def test_two_translates_of_one_language_at_once_pay_once(tiny_source, fake_azure, tmp_path, shared):
    """Before: both looked the strings up in the empty cache (or the folder) and sent every one (billed twice).
    One cache: the second finds the strings there; one results folder: it takes them back from the first's files."""
    outs = [tmp_path / "out", tmp_path / ("out" if shared == "out" else "other")]
    caches = [tmp_path / "cache", tmp_path / ("cache" if shared == "cache" else "cache2")]
    # the second starts once the first is sending (holding its locks), so the two overlap on any machine
    runs = [_translate(fake_azure, tiny_source, caches[0], outs[0])]
    deadline = time.monotonic() + 120
    while not fake_azure.snapshot().get("requests") and runs[0].poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    runs.append(_translate(fake_azure, tiny_source, caches[1], outs[1]))
    said = [proc.communicate(timeout=300) for proc in runs]
    assert [proc.returncode for proc in runs] == [0, 0], said
    both = fake_azure.snapshot()
    # the same work once, on a cache and a folder of its own: what one run pays
    alone = cli("translate", "--source", tiny_source, "--translator", "azure", "--languages", "sw", "--splits",
                "dev,test", "--subjects", "astronomy,virology", "--cache-dir", tmp_path / "cache1", "--out",
                tmp_path / "out1",
                env={"AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake_azure.endpoint,
                     "MMLU_ML_TRANSLATOR_MODEL": ""}, check=True)
    once = {k: v - both.get(k, 0) for k, v in fake_azure.snapshot().items() if k in ("elements", "characters")}
    assert {k: both[k] for k in once} == once, alone.stderr
    waited = [err for _, err in said if "waiting for pid " in err and "to finish translating sw (azure)" in err]
    assert len(waited) == 1, [err for _, err in said]
    for out in outs:  # both folders whole and the same
        assert (out / "translations" / "azure" / "sw" / "test.jsonl").read_bytes() == \
            (tmp_path / "out1" / "translations" / "azure" / "sw" / "test.jsonl").read_bytes()
    assert not list(tmp_path.rglob("*.lock"))  # a lock let go leaves no file behind
