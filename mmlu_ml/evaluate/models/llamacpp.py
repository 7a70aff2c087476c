"""`llamacpp:<gguf path or name>`: a GGUF model run in-process by llama-cpp-python.

Speed comes from the KV cache: each prompt is tokenized whole (so tokens are exactly those of a naive run),
the longest common prefix with what the cache already holds is kept, the cache is cut back to it, and only the
new tokens are evaluated. Questions of one subject share instruction + shots, so those are evaluated once per
subject and each question costs only its own tokens. Next-token logits are read straight from the context
(`llama_get_logits_ith`), without `logits_all`, which would copy a vocabulary-sized row per token.

A decode costs about 20 tokens' worth on top of its tokens (bench/decode_layout.py), so a chunk of questions is
scored several per decode: each question in its own KV stream, which holds a copy of the shared prefix. A stream
numbers its cells from 0 like a lone run, so every question's cells sit exactly where a one-at-a-time (or naive)
evaluation puts them and its log-probabilities are the same, bit for bit (tested for the packaged K-quant models;
another quantization may take another kernel for several output rows than for one). In one shared stream they
would not be: llama.cpp sums attention in groups of 16 cells (AVX-512), and a batch-mate's cells shift those
groups (BENCHMARKS.md).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...llama import assets
from ...core.errors import MmluMlError
from .base import Model
from ...llama.generate import MIN_ROWS, Generator, Request, shared_length as _shared_length
# load_llama: plain CPU buffers, as AMX tiles crash these VMs (see there)
from ...llama.load import chat_formatter, load_llama, machine, runtime, streams_from_env
from ...core.paths import component

PROBE = "Question?\nA) one\nB) two\nC) three\nD) four\nAnswer:"
DECODE_OVERHEAD = 20  # one llama_decode's fixed cost in tokens: ~130 ms against ~6.5 ms a token on 2 cores
# Every prompt decode is padded to MIN_ROWS (llama/generate.py: llama.cpp rounds differently in smaller decodes), so
# a token's result never depends on how its prompt was cut into decodes. The last layer runs on the output rows
# only, one per question of a group: groups stay under MIN_ROWS (streams <= MIN_ROWS - 1).


def decode_groups(lengths: Sequence[int], streams: int, max_cells: int,
                  overhead: int = DECODE_OVERHEAD) -> list[list[int]]:
    """Indices of `lengths` split into groups, one decode each. A group's members are padded to its longest, so
    groups are runs of the length-sorted order, at most `streams` long and `max_cells` tokens in all; the cuts
    minimize padding plus `overhead` per decode (exact, by dynamic programming)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    size = [lengths[i] for i in order]
    best, take = [0.0] + [float("inf")] * len(size), [0] * (len(size) + 1)
    for end in range(1, len(size) + 1):
        for k in range(1, min(streams, end) + 1):
            cells = k * size[end - 1]  # the run's longest is its last
            if k > 1 and cells > max_cells:
                break
            if best[end - k] + overhead + cells < best[end]:
                best[end], take[end] = best[end - k] + overhead + cells, k
    groups, end = [], len(size)
    while end:
        groups.append(order[end - take[end]:end])
        end -= take[end]
    return groups[::-1]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted, dtype=np.float64).sum())


class LlamaCppModel(Model):
    """A Model (evaluate/models/base.py) on llama.cpp. Not thread-safe: one call at a time."""

    def __init__(self, spec: str, cache_dir: Path, base_url: str | None = None, concurrency: int = 1,
                 seed: int = 0, n_ctx: int | None = None, n_threads: int | None = None, reuse_prefix: bool = True,
                 chat_template: str | None = None, streams: int | None = None):
        try:
            llama_cpp = runtime()
        except ImportError:
            raise MmluMlError("llamacpp: models need llama-cpp-python; pip install 'mmlu-ml[local]'") from None
        if not spec:
            raise MmluMlError("llamacpp: needs a model, e.g. llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m "
                              f"or llamacpp:/path/to/model.gguf (names: {', '.join(assets.ASSETS)})")
        self._lib = llama_cpp
        self.path = assets.resolve(spec, cache_dir)
        known = assets.ASSETS.get(spec)
        # a packaged model was sha-checked when joined; any other file is hashed once here
        self.sha256 = known.sha256 if known and self.path.name == f"{spec}.gguf" else assets.sha256_of(self.path)
        self.name = component(spec if known else self.path.stem, "model")
        self.seed = seed
        self.reuse_prefix = reuse_prefix
        threads = n_threads or os.cpu_count() or 1
        # 8192 holds 5-shot English prompts (the longest, european history, is ~3.1k tokens) and most translations;
        # scripts that tokenize long (bn, te) may need more: MMLU_ML_LLAMA_N_CTX raises it
        n_ctx = n_ctx or int(os.environ.get("MMLU_ML_LLAMA_N_CTX", "8192"))
        self.streams = streams or streams_from_env()
        if not 1 <= self.streams < MIN_ROWS:
            raise MmluMlError(f"streams must be a whole number from 1 to {MIN_ROWS - 1}")
        self.llm = load_llama(
            self.path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512, seed=seed,
            logits_all=False, streams=self.streams,
            swa_full=True)  # sliding-window models (Gemma 3) can be cut back to a prefix only with a full cache
        self.n_ctx = llama_cpp.llama_n_ctx_seq(self.llm._ctx.ctx)  # cells one prompt can use
        self.n_batch = min(self.llm.n_batch, llama_cpp.llama_n_ubatch(self.llm._ctx.ctx))  # tokens per decode
        self.prompts_per_call = 4 * self.streams  # enough questions per call for groups of similar length
        self._mem = llama_cpp.llama_get_memory(self.llm._ctx.ctx)
        self._copied: tuple[tuple[int, ...], int] | None = None  # (prefix, streams) the other streams hold
        self.n_vocab = self.llm.n_vocab()
        self.evaluated_tokens = 0  # tokens actually run through the model (the benchmark reads this)
        # Generated answers (cot0) go through the chat template of an instruct model, as a chat API would send
        # them; letters are scored on the raw prompt (the GPT-4 protocol is a completion prompt).
        self._chat = chat_formatter(self.llm, chat_template)
        self._chat_template = chat_template
        self._bos_text = self.llm.detokenize([self.llm.token_bos()], special=True).decode("utf-8", "ignore")
        self.scoring = "next-token" if self._single_tokens(PROBE, (" A", " B", " C", " D")) else "whole-continuation"

    # -- Model protocol -----------------------------------------------------------------------------------------

    def fingerprint(self) -> dict:
        return {"backend": "llamacpp", "model": self.name, "sha256": self.sha256,
                # n_ctx is left out: it changes which prompts fit, never a score (a too-long prompt is an error,
                # retried under the same configuration once MMLU_ML_LLAMA_N_CTX is raised)
                "runtime": f"llama-cpp-python {self._lib.__version__}", "seed": self.seed,
                "scoring": self.scoring, "decoding": "greedy",
                "generate_with": "raw prompt" if self._chat is None else
                ("chat template (given)" if self._chat_template else "chat template (model)")}

    def machine(self) -> dict:
        """The llama.cpp build and CPU the answers come from (llama.load.machine): scores differ across CPUs."""
        return machine()

    def letter_logprobs(self, prefix: str, suffixes: list[str], letters: Sequence[str]) -> list[dict | Exception]:
        if self.streams > 1 and self.reuse_prefix and self.scoring == "next-token" and len(suffixes) > 1:
            return self._score_together(prefix, suffixes, letters)
        return [self._score_one(prefix + suffix, letters) for suffix in suffixes]

    def generate(self, prompts: list[str], max_tokens: int) -> list[str | Exception]:
        """Greedy replies, `streams` of them generated side by side (mmlu_ml.llama.generate)."""
        self._forget()  # the generator keeps its own account of the streams' cells
        generator = Generator(self.llm, self.streams)
        try:
            return generator.run([self._generation(prompt, max_tokens) for prompt in prompts])
        finally:
            self.evaluated_tokens += generator.rows
            self._forget()

    # -- internals --------------------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def _continuation(self, prompt_tokens: list[int], prompt: str, letter: str) -> list[int]:
        """The tokens `letter` adds after `prompt`, as a whole-text tokenization would produce them."""
        full = self._tokens(prompt + letter)
        if full[: len(prompt_tokens)] == prompt_tokens:
            return full[len(prompt_tokens):]
        # the letter merged with the prompt's last token: score it as its own tokens after the prompt
        return self.llm.tokenize(letter.encode("utf-8"), add_bos=False, special=False)

    def _single_tokens(self, prompt: str, letters: Sequence[str]) -> bool:
        base = self._tokens(prompt)
        conts = [self._continuation(base, prompt, letter) for letter in letters]
        return all(len(c) == 1 for c in conts) and len({c[0] for c in conts}) == len(conts)

    def _forget(self) -> None:
        # An empty cache, head included: where cells sit changes llama.cpp's rounding (bench/decode_layout.py),
        # so after a failure the next prompt lands where it would in a fresh process.
        self._lib.llama_memory_clear(self._mem, True)
        self.llm.n_tokens = 0
        self._copied = None

    def _check_fits(self, n: int) -> None:
        if n > self.n_ctx:
            raise ValueError(f"prompt of {n} tokens exceeds the context of {self.n_ctx}; "
                             "set MMLU_ML_LLAMA_N_CTX higher or use fewer --shots")

    def _eval_to(self, tokens: list[int]) -> None:
        """Make stream 0 hold exactly `tokens`, evaluating only what it does not share; logits of the last."""
        self._check_fits(len(tokens))
        keep = 0
        if self.reuse_prefix:
            keep = min(_shared_length(self.llm.input_ids[: self.llm.n_tokens], tokens),
                       len(tokens) - 1)  # at least one token is evaluated, so fresh logits exist
        self._extend(tokens, keep)

    def _extend(self, tokens: list[int], keep: int) -> None:
        """Stream 0 cut back to tokens[:keep], then the rest of `tokens` evaluated, a decode per n_batch."""
        self._lib.llama_memory_seq_rm(self._mem, 0, keep, -1)
        self.llm.n_tokens = keep
        for start in range(keep, len(tokens), self.n_batch):
            piece = tokens[start:start + self.n_batch]
            self._decode([piece], start, keep_cells=True)
            self.llm.input_ids[start:start + len(piece)] = piece
            self.llm.n_tokens = start + len(piece)

    def _next_logprobs(self, index: int = -1) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, index)
        logits = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))
        return _log_softmax(logits.astype(np.float64))

    def _score(self, prompt: str, letters: Sequence[str]) -> dict[str, float]:
        tokens = self._tokens(prompt)
        conts = [self._continuation(tokens, prompt, letter) for letter in letters]
        self._check_fits(len(tokens) + max(len(c) for c in conts))
        self._eval_to(tokens)
        first = self._next_logprobs()
        scores: dict[str, float] = {}
        for letter, cont in zip(letters, conts):
            total = float(first[cont[0]])
            if len(cont) > 1:  # a letter that is several tokens: log P of the whole continuation
                for i in range(1, len(cont)):
                    self._eval_to(tokens + cont[:i])
                    total += float(self._next_logprobs()[cont[i]])
            scores[letter.strip() or letter] = total
        return scores

    def _score_one(self, prompt: str, letters: Sequence[str]) -> dict | Exception:
        try:
            return self._score(prompt, letters)
        except Exception as exc:  # one item's failure (too long, decode error) must not stop the others
            self._forget()
            return exc

    def _score_together(self, prefix: str, suffixes: list[str], letters: Sequence[str]) -> list[dict | Exception]:
        """Questions sharing `prefix`, several per decode (see the module docstring); one-at-a-time for those that
        cannot be (a letter of several tokens, longer than a decode or the context)."""
        out: list[dict | Exception | None] = [None] * len(suffixes)
        prompts: dict[int, list[int]] = {}
        firsts: dict[int, list[int]] = {}
        for i, suffix in enumerate(suffixes):
            try:
                tokens = self._tokens(prefix + suffix)
                conts = [self._continuation(tokens, prefix + suffix, letter) for letter in letters]
            except Exception:  # scored alone below, to its own error
                continue
            if all(len(c) == 1 for c in conts) and len(tokens) < self.n_ctx:
                prompts[i], firsts[i] = tokens, [c[0] for c in conts]
        # the prefix's own tokens at most, so every chunk of a subject shares one copy in the streams
        shared = min(prompts.values(), key=len, default=[])[:-1][:len(self._tokens(prefix))]
        for tokens in prompts.values():
            shared = shared[:_shared_length(shared, tokens)]
        together = [i for i in prompts if len(prompts[i]) - len(shared) <= self.n_batch]
        if len(together) > 1:
            groups = decode_groups([len(prompts[i]) - len(shared) for i in together], self.streams, self.n_batch)
            try:
                self._hold(shared, max(len(g) for g in groups))
            except Exception:
                self._forget()
                groups = []
            for group in groups:
                members = [together[g] for g in group]
                try:
                    rows = self._decode_group([prompts[i][len(shared):] for i in members], len(shared))
                except Exception:  # the rest one at a time, each to its own result or error
                    self._forget()
                    break
                for i, row in zip(members, rows):
                    out[i] = {letter.strip() or letter: float(row[t]) for letter, t in zip(letters, firsts[i])}
        return [r if r is not None else self._score_one(prefix + suffixes[i], letters) for i, r in enumerate(out)]

    def _hold(self, shared: list[int], streams: int) -> None:
        """Stream 0 holds exactly `shared`, and streams 1..`streams`-1 a copy of it."""
        self._extend(shared, _shared_length(self.llm.input_ids[: self.llm.n_tokens], shared))
        if streams > 1 and (self._copied is None or self._copied[0] != tuple(shared) or self._copied[1] < streams):
            for s in range(1, streams):  # llama.cpp copies the whole stream's buffers on the next decode
                self._lib.llama_memory_seq_cp(self._mem, 0, s, -1, -1)
            self._copied = (tuple(shared), streams)

    def _decode_group(self, members: list[list[int]], start: int) -> list[np.ndarray]:
        """Member s's tokens in stream s, at positions start.., in one decode; each one's next-token log-probabilities
        after its last token. Their cells go again after."""
        outputs = self._decode(members, start, keep_cells=False)
        return [self._next_logprobs(i) for i in outputs]

    def _decode(self, members: list[list[int]], start: int, keep_cells: bool, min_rows: int = MIN_ROWS) -> list[int]:
        """One llama_decode of member s in stream s at positions start.., padded with its last token to the longest
        and to MIN_ROWS rows in all; logits only after each member's own last token (their batch indices returned).
        Padding cells are removed after, and with `keep_cells` False the members' own cells too."""
        lib = self._lib
        # (never past the context's last cell: a prompt that nearly fills it keeps a short decode instead)
        width = max(max(len(m) for m in members), min(-(-min_rows // len(members)), self.n_ctx - start))
        n = width * len(members)
        batch = lib.llama_batch_init(n, 0, 1)
        try:
            for s, own in enumerate(members):
                for j, token in enumerate(own + own[-1:] * (width - len(own))):
                    i = s * width + j
                    batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + j, 1
                    batch.seq_id[i][0] = s
                    batch.logits[i] = j == len(own) - 1
            batch.n_tokens = n
            if lib.llama_decode(self.llm._ctx.ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            self.evaluated_tokens += n
            return [s * width + len(own) - 1 for s, own in enumerate(members)]
        finally:
            lib.llama_batch_free(batch)
            for s, own in enumerate(members):
                lib.llama_memory_seq_rm(self._mem, s, start + len(own) if keep_cells else start, -1)

    def generation_text(self, prompt: str) -> str:
        """What `generate` feeds the model: the prompt as one user turn of the chat template, or as it is."""
        if self._chat is None:
            return prompt
        return self._chat(messages=[{"role": "user", "content": prompt}]).prompt

    def _generation(self, prompt: str, max_tokens: int):
        """A generator job: the request for `prompt`'s reply, and the reply sent back."""
        text = self.generation_text(prompt)
        if self._chat is None:
            tokens = self._tokens(text)
        else:  # the template's markers are special tokens; its own BOS, if it writes one, is not doubled
            bos = self._bos_text
            tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=not (bos and text.startswith(bos)),
                                       special=True)
        self._check_fits(len(tokens) + max_tokens)
        return (yield Request(tokens, max_tokens))
