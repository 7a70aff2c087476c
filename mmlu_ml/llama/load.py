"""Loading a GGUF model into llama-cpp-python, the way that works on the machines we run on.

llama.cpp moves weights into "extra buffer types" (CPU repacking, AMX tiles) when the CPU reports support.
On our sandboxed Xeons (AMX_INT8 reported) that path segfaults in the first decode, for every model we ship.
llama-cpp-python 0.3.36 does not expose `use_extra_bufts`, so the default model parameters it starts from are
swapped, only while one model loads, for ones with that flag off. MMLU_ML_LLAMA_EXTRA_BUFTS=1 turns it back on.

How llama.cpp's OpenMP threads wait (spin or sleep) is decided just before llama_cpp is first imported:
`runtime()`, which every import of it here goes through.
"""

from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import MmluMlError

_LOCK = threading.RLock()  # both swaps below may be held while one model loads


def _openmp_waits() -> None:
    """How llama.cpp's OpenMP threads wait between the steps of a decode, decided before llama_cpp loads
    (libgomp reads it when the library is loaded).

    Spinning briefly (libgomp's default, 300,000 spins) is 8-12% faster on free cores, where a question's
    few dozen tokens make each step short; on cores other processes share, spinning made generation 2-3x
    slower, so threads then sleep (PASSIVE). Decided once from the load average and written to the
    environment, so child processes (a benchmark's modes, a server) wait the same way. A user's own
    OMP_WAIT_POLICY or GOMP_SPINCOUNT wins."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    try:
        busy = os.getloadavg()[0] >= 0.5 * (os.cpu_count() or 1)
    except OSError:
        busy = True
    if busy:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        os.environ["GOMP_SPINCOUNT"] = "300000"


def runtime():
    """The llama_cpp module, imported once the OpenMP wait policy is in the environment."""
    _openmp_waits()
    import llama_cpp
    return llama_cpp


@contextmanager
def without_extra_buffers():
    runtime()
    import llama_cpp.llama as llama_module
    low = llama_module.llama_cpp
    original = low.llama_model_default_params

    def params():
        p = original()
        p.use_extra_bufts = False
        return p

    with _LOCK:
        low.llama_model_default_params = params
        try:
            yield
        finally:
            low.llama_model_default_params = original


@contextmanager
def _streams(n: int):
    """Contexts made inside hold `n` sequences, each in its own KV stream (its own cells, numbered from 0)."""
    if n <= 1:
        yield
        return
    runtime()
    import llama_cpp.llama as llama_module
    low = llama_module.llama_cpp
    original = low.llama_context_default_params

    def params():
        p = original()
        p.n_seq_max, p.kv_unified = n, False
        return p

    with _LOCK:
        low.llama_context_default_params = params
        try:
            yield
        finally:
            low.llama_context_default_params = original


STREAMS = 4  # prompts per decode by default: each stream holds its own n_ctx cells (~0.23 GB for the 1.5B model)
MAX_STREAMS = 7  # more output rows than this take llama.cpp's other kernel (llamacpp_model.MIN_ROWS)


def streams_from_env() -> int:
    """MMLU_ML_LLAMA_STREAMS, or the default; MmluMlError for anything but a whole number from 1 to 7."""
    raw = os.environ.get("MMLU_ML_LLAMA_STREAMS", str(STREAMS))
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_STREAMS:
        raise MmluMlError(f"MMLU_ML_LLAMA_STREAMS must be a whole number from 1 to {MAX_STREAMS}, not {raw!r}")
    return int(raw)


def load_llama(path: Path, n_ctx: int, n_threads: int | None = None, streams: int = 1, **kwargs):
    """A `llama_cpp.Llama` for `path`; MmluMlError when llama.cpp cannot load it. With `streams` > 1 the context
    holds that many sequences, each with its own `n_ctx` cells (rounded up to a multiple of 256 by llama.cpp)."""
    runtime()
    from llama_cpp import Llama
    threads = n_threads or min(os.cpu_count() or 2, 8)
    n_ctx *= max(streams, 1)
    try:
        with _streams(streams):
            if os.environ.get("MMLU_ML_LLAMA_EXTRA_BUFTS") == "1":
                return Llama(str(path), n_ctx=n_ctx, n_threads=threads, verbose=False, **kwargs)
            with without_extra_buffers():
                return Llama(str(path), n_ctx=n_ctx, n_threads=threads, verbose=False, **kwargs)
    except (ValueError, RuntimeError) as exc:
        raise MmluMlError(f"llama.cpp cannot load {path} ({str(exc).splitlines()[0][:160]}); "
                          "pass a valid GGUF model file") from None


def chat_formatter(llm, template: str | None = None):
    """`template` (else the model's own chat template) as llama-cpp-python's formatter: messages -> a rendered
    prompt with the assistant turn opened. None for a model without one (a base model)."""
    template = template or llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    runtime()
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "ignore")
    bos = llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "ignore")
    return Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)


def machine() -> dict:
    """What a local run's arithmetic depends on beyond the model and the settings (not in any cache key):
    llama.cpp's build (compiled on each machine for its CPU: a digest of its CPU library) and the instruction
    sets it uses (its system info), the CPU and the extra-buffer setting. Greedy output can differ where these
    differ, so a translation manifest records them."""
    return dict(_machine(os.environ.get("MMLU_ML_LLAMA_EXTRA_BUFTS") == "1"))


@functools.lru_cache(maxsize=2)
def _machine(extra_buffers: bool) -> dict:
    """machine(), worked out once a process (it hashes llama.cpp's CPU library)."""
    import hashlib
    import platform

    llama_cpp = runtime()
    lib = Path(llama_cpp.__file__).parent / "lib" / "libggml-cpu.so"
    try:
        built = hashlib.sha256(lib.read_bytes()).hexdigest()[:16]
    except OSError:
        built = None
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            fields = dict(line.split(":", 1) for line in f.read().split("\n\n", 1)[0].splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        cpu = f"{fields.get('model name')} (family {fields.get('cpu family')}, model {fields.get('model')})"
    except OSError:
        pass
    return {"runtime": f"llama-cpp-python {llama_cpp.__version__}", "ggml_cpu_sha256": built,
            "system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip(" |"),
            "cpu": cpu, "arch": platform.machine(),
            "extra_buffers": extra_buffers}
