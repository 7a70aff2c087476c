"""`llamacpp:<gguf path or name>`: a GGUF model run in-process by llama-cpp-python.

Speed comes from the KV cache: each prompt is tokenized whole (so tokens are exactly those of a naive run),
the longest common prefix with what the cache already holds is kept, the cache is cut back to it, and only the
new tokens are evaluated. Questions of one subject share instruction + shots, so those are evaluated once per
subject and each question costs only its own tokens. Next-token logits are read straight from the context
(`llama_get_logits_ith(ctx, -1)`), without `logits_all`, which would copy a vocabulary-sized row per token.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import assets
from ..errors import MmluMlError
from ..llama_load import chat_formatter, load_llama  # plain CPU buffers: AMX tiles crash these VMs (see there)
from ..paths import component

PROBE = "Question?\nA) one\nB) two\nC) three\nD) four\nAnswer:"


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted, dtype=np.float64).sum())


class LlamaCppModel:
    """The Model protocol (mmlu_ml.evaluate.Model) on llama.cpp. Not thread-safe: one call at a time."""

    def __init__(self, spec: str, cache_dir: Path, base_url: str | None = None, concurrency: int = 1,
                 seed: int = 0, n_ctx: int | None = None, n_threads: int | None = None, reuse_prefix: bool = True,
                 chat_template: str | None = None, **_ignored):
        try:
            import llama_cpp
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
        self.llm = load_llama(
            self.path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512, seed=seed,
            logits_all=False,
            swa_full=True)  # sliding-window models (Gemma 3) can be cut back to a prefix only with a full cache
        self.n_ctx = self.llm.n_ctx()
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

    def letter_logprobs(self, prefix: str, suffixes: list[str], letters: Sequence[str]) -> list[dict | Exception]:
        out: list[dict | Exception] = []
        for suffix in suffixes:
            try:
                out.append(self._score(prefix + suffix, letters))
            except Exception as exc:  # one item's failure (too long, decode error) must not stop the others
                self._forget()
                out.append(exc)
        return out

    def generate(self, prompts: list[str], max_tokens: int) -> list[str | Exception]:
        out: list[str | Exception] = []
        for prompt in prompts:
            try:
                out.append(self._generate(prompt, max_tokens))
            except Exception as exc:
                self._forget()
                out.append(exc)
        return out

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
        self._lib.llama_memory_clear(self._lib.llama_get_memory(self.llm._ctx.ctx), True)
        self.llm.n_tokens = 0

    def _check_fits(self, n: int) -> None:
        if n > self.n_ctx:
            raise ValueError(f"prompt of {n} tokens exceeds the context of {self.n_ctx}; "
                             "set MMLU_ML_LLAMA_N_CTX higher or use fewer --shots")

    def _eval_to(self, tokens: list[int]) -> None:
        """Make the context hold exactly `tokens`, evaluating only what the cache does not share."""
        self._check_fits(len(tokens))
        keep = 0
        if self.reuse_prefix:
            held = self.llm.input_ids[: self.llm.n_tokens]
            limit = min(len(held), len(tokens))
            if limit:
                same = np.asarray(held[:limit]) == np.asarray(tokens[:limit])
                keep = limit if same.all() else int(np.argmin(same))
            keep = min(keep, len(tokens) - 1)  # at least one token is evaluated, so fresh logits exist
        self.llm.n_tokens = keep  # Llama.eval removes cache cells from n_tokens on before decoding
        new = tokens[keep:]
        self.llm.eval(new)
        self.evaluated_tokens += len(new)

    def _next_logprobs(self) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, -1)
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

    def generation_text(self, prompt: str) -> str:
        """What `generate` feeds the model: the prompt as one user turn of the chat template, or as it is."""
        if self._chat is None:
            return prompt
        return self._chat(messages=[{"role": "user", "content": prompt}]).prompt

    def _generate(self, prompt: str, max_tokens: int) -> str:
        text = self.generation_text(prompt)
        if self._chat is None:
            tokens = self._tokens(text)
        else:  # the template's markers are special tokens; its own BOS, if it writes one, is not doubled
            bos = self._bos_text
            tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=not (bos and text.startswith(bos)),
                                       special=True)
        self._check_fits(len(tokens) + max_tokens)
        self._eval_to(tokens)
        produced: list[int] = []
        for _ in range(max_tokens):
            token = int(np.argmax(self._next_logprobs()))
            if self._lib.llama_vocab_is_eog(self.llm._model.vocab, token):  # end of text or of turn
                break
            produced.append(token)
            self.llm.eval([token])
            self.evaluated_tokens += 1
        return self.llm.detokenize(produced).decode("utf-8", errors="replace")
