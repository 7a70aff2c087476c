"""mmlu-ml: translate MMLU, score models per language, and chart the result (GPT-4 report, Fig. 5)."""

__version__ = "0.1.0"

import os as _os


def _omp_waits() -> None:
    """How llama.cpp's OpenMP threads wait between the steps of a decode, decided before llama_cpp loads.

    Spinning briefly (libgomp's default, 300,000 spins) is 8-12% faster on free cores, where a question's
    few dozen tokens make each step short; on cores other processes share, spinning made generation 2-3x
    slower, so threads then sleep (PASSIVE). Decided once from the load average and written to the
    environment, so child processes (a benchmark's modes, a server) wait the same way. A user's own
    OMP_WAIT_POLICY or GOMP_SPINCOUNT wins."""
    if "OMP_WAIT_POLICY" in _os.environ or "GOMP_SPINCOUNT" in _os.environ:
        return
    try:
        busy = _os.getloadavg()[0] >= 0.5 * (_os.cpu_count() or 1)
    except OSError:
        busy = True
    if busy:
        _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        _os.environ["GOMP_SPINCOUNT"] = "300000"


_omp_waits()
