"""Why several questions per decode need a KV stream each: llama.cpp's per-decode cost and KV-cell layout, measured.

Two measurements on one GGUF model (default: the 1.5B evaluate model), through llama-cpp-python's low-level API:

  cost     `llama_decode` time for N new tokens after a 400-token prefix: what one decode costs beyond its tokens
  layout   a prefix of P tokens, then one decode holding a batch-mate sequence of G tokens followed by the
           sequence under test (h tokens); the test sequence's top-20 log-probabilities against the same tokens
           decoded alone right after the prefix (max |difference|). G = 0 is the alone case.
  streams  what generating side by side costs (mmlu_ml.llama.generate): one decode of one new token in each of
           k KV streams (k = 1..7), each after a 400-token prefix of its own, against padded decodes of 8 rows

    python bench/decode_layout.py                      # all three, ~3 minutes on 2 cores
    python bench/decode_layout.py --only layout --prefix 96

Findings are in BENCHMARKS.md (evaluate section). Here the sequences share one unified KV cache (set through
llama-cpp-python's context defaults while the model loads), which is what makes them inexact; the llamacpp
backend gives each question its own stream instead (tests/evaluate/test_llamacpp.py checks it bit for bit).
"""

from __future__ import annotations

import argparse
import ctypes
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = "The quick brown fox jumps over the lazy dog. " * 80
MATE = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau " * 10


def load(model: str, cache_dir: Path):
    from mmlu_ml.llama.load import runtime
    runtime()  # the OpenMP wait policy first, as the tool loads llama.cpp
    import llama_cpp.llama as llama_module
    low = llama_module.llama_cpp
    original = low.llama_context_default_params

    def params():
        p = original()
        p.kv_unified, p.n_seq_max = True, 4
        return p

    from mmlu_ml.evaluate.models.llamacpp import LlamaCppModel
    low.llama_context_default_params = params
    try:
        return LlamaCppModel(model, cache_dir, n_ctx=4096, streams=1)  # one stream shared by the 4 sequences
    finally:
        low.llama_context_default_params = original


def log_probs(m, index: int) -> np.ndarray:
    from mmlu_ml.evaluate.models.llamacpp import _log_softmax
    ptr = m._lib.llama_get_logits_ith(m.llm._ctx.ctx, index)
    row = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(m.n_vocab,))
    return _log_softmax(row.astype(np.float64))


def decode(m, seqs: list[tuple[int, list[int]]], start: int) -> int:
    """One llama_decode of the given (seq id, tokens) in order, each at positions start..; returns the batch
    index of the last token (the only one with logits)."""
    lib = m._lib
    n = sum(len(t) for _, t in seqs)
    batch = lib.llama_batch_init(n, 0, 1)
    i = 0
    try:
        for seq, tokens in seqs:
            for j, token in enumerate(tokens):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + j, 1
                batch.seq_id[i][0] = seq
                batch.logits[i] = j == len(tokens) - 1
                i += 1
        batch.n_tokens = n
        if lib.llama_decode(m.llm._ctx.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
    finally:
        lib.llama_batch_free(batch)
    return n - 1


def fresh_prefix(m, tokens: list[int], seqs=(1, 2)) -> None:
    lib, mem = m._lib, m._lib.llama_get_memory(m.llm._ctx.ctx)
    lib.llama_memory_clear(mem, True)  # an empty cache: each trial's cells sit where the first trial's did
    m.llm.n_tokens = 0
    m.llm.eval(tokens)
    for s in seqs:
        lib.llama_memory_seq_rm(mem, s, -1, -1)
        lib.llama_memory_seq_cp(mem, 0, s, 0, len(tokens))


def cost(m, sizes=(8, 16, 32, 64, 100, 128, 256, 512), prefix=400) -> list[dict]:
    toks = m._tokens(TEXT)
    rows = []
    for n in sizes:
        best = float("inf")
        for _ in range(3):
            m.llm.n_tokens = 0
            m.llm.eval(toks[:prefix])
            start = time.perf_counter()
            m.llm.eval(toks[prefix:prefix + n])
            best = min(best, time.perf_counter() - start)
        rows.append({"tokens": n, "ms": round(1000 * best, 1), "ms_per_token": round(1000 * best / n, 2)})
        print(f"cost  N={n:4d}  {1000 * best:8.1f} ms  {1000 * best / n:6.2f} ms/token", flush=True)
    return rows


def layout(m, prefix: int, mates=(0, 8, 13, 16, 32, 48), lengths=(12, 20, 23, 40)) -> list[dict]:
    toks, mate = m._tokens(TEXT), m._tokens(MATE)[1:]
    rows = []
    for g in mates:
        gaps = {}
        for h in lengths:
            fresh_prefix(m, toks[:prefix])
            alone = log_probs(m, decode(m, [(1, toks[prefix:prefix + h])], prefix))
            fresh_prefix(m, toks[:prefix])
            seqs = ([(1, mate[:g])] if g else []) + [(2, toks[prefix:prefix + h])]
            got = log_probs(m, decode(m, seqs, prefix))
            top = np.argsort(alone)[-20:]
            gaps[h] = round(float(np.abs(got[top] - alone[top]).max()), 4)
        rows.append({"prefix": prefix, "mate_tokens": g, "max_abs_diff_by_length": gaps})
        print(f"layout P={prefix} mate={g:3d} " + "  ".join(f"h={h}: {d:.4f}" for h, d in gaps.items()), flush=True)
    return rows


def streams(model: str, cache_dir: Path, prefix: int = 400, trials: int = 5) -> list[dict]:
    from mmlu_ml.llama import assets
    from mmlu_ml.llama.load import MAX_STREAMS, load_llama
    llm = load_llama(assets.resolve(model, cache_dir), 1024, streams=MAX_STREAMS)
    import llama_cpp
    m = SimpleNamespace(_lib=llama_cpp, llm=llm)  # what decode() needs
    mem = m._lib.llama_get_memory(llm._ctx.ctx)
    toks = llm.tokenize(TEXT.encode(), add_bos=True)[:prefix]
    for s in range(MAX_STREAMS):
        decode(m, [(s, toks)], 0)
    rows = []
    for k, width in [(k, 1) for k in range(1, MAX_STREAMS + 1)] + [(1, 8), (4, 2)]:
        best = float("inf")
        for _ in range(trials):
            start = time.perf_counter()
            decode(m, [(s, toks[:width]) for s in range(k)], prefix)
            best = min(best, time.perf_counter() - start)
            for s in range(k):
                m._lib.llama_memory_seq_rm(mem, s, prefix, -1)
        rows.append({"streams": k, "rows_each": width, "ms": round(1000 * best, 1),
                     "ms_per_stream": round(1000 * best / k, 1)})
        print(f"streams k={k} x {width} row(s)  {1000 * best:7.1f} ms  {1000 * best / k:6.1f} ms per stream", flush=True)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    ap.add_argument("--cache-dir", default=str(ROOT / "cache"))
    ap.add_argument("--only", choices=["cost", "layout", "streams"], default=None)
    ap.add_argument("--prefix", type=int, action="append", help="prefix lengths for layout (default 100 and 96)")
    args = ap.parse_args(argv)
    if args.only in (None, "streams"):
        streams(args.model, Path(args.cache_dir))
    if args.only == "streams":
        return
    m = load(args.model, Path(args.cache_dir))
    if args.only in (None, "cost"):
        cost(m)
    if args.only in (None, "layout"):
        for p in args.prefix or [100, 96]:
            layout(m, p)


if __name__ == "__main__":
    main()
