"""A real OpenAI-compatible server for tests: llama-cpp-python's, on the 270M Gemma, on 127.0.0.1.

Its fixtures, `gemma_path` and `llama_server`, are the suite's: tests/conftest.py imports them.

Run as a script, this file is `python -m llama_cpp.server` with llama.cpp's extra weight buffers (AMX and
CPU repacking) turned off, as mmlu_ml/llama/load.py loads every in-process model: on the Firecracker VMs these
tests run on, the CPU reports AMX but its `ldtilecfg` faults, and llama-cpp-python 0.3.36 segfaults on its
first decode. So both sides of a comparison run the same plain kernels.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GEMMA = "gemma-3-270m-q4_k_m"
SEED = 1234


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    process: subprocess.Popen
    base_url: str  # http://127.0.0.1:PORT/v1
    model: str  # the served model id (its alias)
    log: Path

    def log_tail(self, n: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:]) if self.log.exists() else ""

    def peak_rss_mb(self) -> float | None:
        """The server's peak resident memory so far (Linux), None once it has exited."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        kb = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
        return int(kb[0]) / 1024 if kb else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start(model_path: Path, alias: str, log: Path, n_ctx: int = 2048, threads: int = 2,
          chat_format: str | None = None, wait_s: float = 180) -> LlamaServer:
    """Start the server on a free loopback port and return once /v1/models answers."""
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--model", str(model_path), "--model_alias", alias,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--seed", str(SEED),
               "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    command += ["--chat_format", chat_format] if chat_format else []
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = LlamaServer(process, f"http://127.0.0.1:{port}/v1", alias, log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as reply:
                served = [m["id"] for m in json.load(reply)["data"]]
            if alias in served:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"llama_cpp.server did not answer within {wait_s:.0f} s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    from mmlu_ml.llama import assets

    return assets.resolve(GEMMA, ROOT / "cache")


@pytest.fixture(scope="session")
def llama_server(gemma_path, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on the Gemma 270M (n_ctx 2048, seed 1234) for the session."""
    server = start(gemma_path, GEMMA, tmp_path_factory.mktemp("llama_server") / "server.log", chat_format="gemma")
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # the server process itself
    from mmlu_ml.llama.load import without_extra_buffers

    with without_extra_buffers():
        from llama_cpp.server.__main__ import main

        main()
