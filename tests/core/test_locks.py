"""mmlu_ml/core/locks.py with real processes: a lock names its holder, a killed holder's lock is gone, a waiter
says whom it waits for, and a lock let go leaves no file (and no second holder) behind."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT
from mmlu_ml.core import locks
from mmlu_ml.core.errors import MmluMlError

HOLD = """
import sys, time
from mmlu_ml.core.locks import held
with held(sys.argv[1], "holding it", wait=False):
    print("held", flush=True)
    sys.stdin.readline()  # let go when the test says so (a line, or stdin closed)
"""


def _holder(path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_lock_names_its_holder_and_a_killed_holder_blocks_nothing(tmp_path):
    path = tmp_path / "deep" / "x.lock"
    proc = _holder(path)
    with pytest.raises(MmluMlError) as refused:
        with locks.held(path, "scoring m/gpt4/de", wait=False):
            pass
    said = str(refused.value)
    assert said.startswith("scoring m/gpt4/de: pid %d (`" % proc.pid) and "since 20" in said and "\n" not in said
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup: the file stays, the flock goes with the process
    proc.wait()
    assert path.exists()
    with locks.held(path, "scoring m/gpt4/de", wait=False):
        assert f'"pid": {os.getpid()}' in path.read_text()
    assert not path.exists()


def test_a_waiter_says_for_whom_and_goes_on_when_the_holder_lets_go(tmp_path, caplog):
    path = tmp_path / "x.lock"
    proc = _holder(path)
    got, third = threading.Event(), []

    def wait_for_it():
        with locks.held(path, "translating sw (azure)", wait=True):
            got.set()
            # the file the holder removed is not the one held: a third run must not get in beside this one
            try:
                with locks.held(path, "translating sw (azure)", wait=False):
                    third.append("got in")
            except MmluMlError:
                third.append("refused")

    with caplog.at_level(logging.INFO, logger="mmlu_ml"):
        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        time.sleep(0.5)
        assert not got.is_set()
        proc.communicate("\n", timeout=10)
        waiter.join(10)
    assert got.is_set() and third == ["refused"]
    assert any(f"waiting for pid {proc.pid} (`" in r.getMessage() and "to finish translating sw (azure)"
               in r.getMessage() for r in caplog.records), caplog.text
    assert not path.exists()
