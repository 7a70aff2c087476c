"""mmlu-ml: translate MMLU, score models per language, and chart the result (GPT-4 report, Fig. 5)."""

__version__ = "0.1.0"

import os as _os

# llama.cpp's threads spin while waiting by default; on shared cores that made generation 2-3x slower.
# It has to be set before anything imports llama_cpp.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
