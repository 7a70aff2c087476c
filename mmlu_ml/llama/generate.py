"""Greedy generation for several prompts at once on one llama.cpp context, each prompt in a KV stream of its own.

Generation decodes one token at a time. On 2 cores one row costs ~83 ms and four rows, one per stream, ~175 ms
(the 1.5B model; BENCHMARKS.md), so prompts generated side by side come out up to twice as fast. A stream that
finishes takes the next prompt at once; one that starts empty takes a copy of a stream holding the few-shot
prefix its prompt shares, rather than evaluating it again.

The rules are llama-cpp-python's `create_completion` at temperature 0 (top-k 1), which the local translator used
before: the likeliest token after llama.cpp's repeat penalty over the last 64 generated tokens; the end at an
end-of-generation token, at a stop string (the text cut before it; not checked while a UTF-8 character is
incomplete), at `max_tokens`, or when `guard` says so of the tokens generated before the one just chosen.

A prompt's tokens do not depend on its decode-mates, which took three rules (each one's breach moved logits by
up to 0.6 in tests/llama/test_llama_generate.py): prompt decodes have at least MIN_ROWS rows and generation decodes
fewer (llama.cpp takes another kernel, rounding differently, at 8 rows: so a token's kernel never depends on its
company); every stream of a decode has the same number of rows (llama.cpp otherwise splits it into uneven
pieces); and the streams of a decode are a run, 1-2-3 and not 1-3 (a stream in between gets padding). Padding
rows copy a stream's last token after it, where no real row attends, and their cells go after the decode.
"""

from __future__ import annotations

import ctypes
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Generator as Coroutine, Iterable, TypeVar

import numpy as np

MIN_ROWS = 8  # rows of every prompt decode at least: llama.cpp (ggml 0.25) multiplies quantized weights with
# another kernel, rounding differently, in decodes of fewer rows
SHARE_MIN = 64  # tokens of a prompt another stream must hold beyond this one's before its cells are copied
PENALTY_LAST_N = 64  # llama-cpp-python's last_n_tokens_size: the repeat penalty's window

T = TypeVar("T")


@dataclass
class Request:
    tokens: list[int]
    max_tokens: int
    stops: list[str] = field(default_factory=list)
    repeat_penalty: float = 1.0
    guard: Callable[[np.ndarray], bool] | None = None  # on the tokens generated so far: True ends generation
    chosen: list[float] = field(default_factory=list)  # filled in: the logit of each token chosen (exactness tests)


@dataclass
class _Slot:
    """A stream's request: prompt tokens still to evaluate, then what it generated."""
    job: int
    request: Request
    todo: list[int]
    todo_at: int = 0  # how many of `todo` are in the cache
    generated: list[int] = field(default_factory=list)
    last: int | None = None  # the chosen token waiting to be evaluated
    multibyte: int = 0


class Generator:
    """Runs jobs: coroutines that yield Requests, are sent each request's text, and return a result."""

    def __init__(self, llm, streams: int):
        from .load import runtime
        llama_cpp = runtime()
        if not 1 <= streams < MIN_ROWS:
            raise ValueError(f"streams must be from 1 to {MIN_ROWS - 1}")
        self.llm, self.lib, self.streams = llm, llama_cpp, streams
        self.ctx = llm._ctx.ctx
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.n_ctx = llama_cpp.llama_n_ctx_seq(self.ctx)  # cells of one stream
        self.n_batch = min(llm.n_batch, llama_cpp.llama_n_ubatch(self.ctx))
        self.n_vocab = llm.n_vocab()
        self.held: list[list[int]] = [[] for _ in range(streams)]  # tokens in each stream's cells 0..
        self.decodes = 0
        self._copying: set[int] = set()  # streams whose copy llama.cpp makes at the next decode: not a source yet
        self.rows = 0  # rows decoded, padding included

    def run(self, jobs: Iterable[Coroutine[Request, str, T]]) -> list[T | Exception]:
        """Each job's return value, or the exception it raised."""
        jobs = list(jobs)
        results: list[Any] = [None] * len(jobs)  # every one set by _advance before run returns
        waiting: deque[tuple[int, Request]] = deque()
        for k in range(len(jobs)):
            self._advance(jobs, results, waiting, k, None)
        slots: list[_Slot | None] = [None] * self.streams
        while waiting or any(slots):
            for s in range(self.streams):
                if slots[s] is None and waiting and not self._wait_for_prefix(waiting[0][1], slots):
                    job, request = waiting.popleft()
                    slots[s] = self._place(s, job, request)
            try:
                finished = self._step(slots)
            except RuntimeError as exc:  # the decode failed: every request in it fails, the cache starts empty
                self.forget()
                for s, slot in enumerate(slots):
                    if slot is not None:
                        slots[s] = None
                        self._advance(jobs, results, waiting, slot.job, exc)
                continue
            for s, text in finished:
                done = slots[s]
                assert done is not None  # only streams with a request finish
                slots[s] = None
                self._advance(jobs, results, waiting, done.job, text)
        return results

    def forget(self) -> None:
        self.lib.llama_memory_clear(self.mem, True)
        self.held = [[] for _ in range(self.streams)]
        self._copying.clear()

    # -- scheduling -----------------------------------------------------------------------------------------------

    def _advance(self, jobs, results, waiting, k: int, reply) -> None:
        """Send job k the reply to its last request (an exception is thrown in); queue its next request."""
        while True:
            try:
                request = jobs[k].throw(reply) if isinstance(reply, Exception) else jobs[k].send(reply)
            except StopIteration as stop:
                results[k] = stop.value
                return
            except Exception as exc:  # the job's own error is its result
                results[k] = exc
                return
            if len(request.tokens) + MIN_ROWS < self.n_ctx:
                waiting.append((k, request))
                return
            reply = ValueError(f"text too long for the model context ({len(request.tokens)} tokens)")

    def _wait_for_prefix(self, request: Request, slots: list[_Slot | None]) -> bool:
        """True while another stream is evaluating a prompt that shares a long start with this one and no stream
        holds it yet: copying that stream when it is done beats evaluating the few-shot prefix again."""
        have = max(shared_length(h, request.tokens) for h in self.held)
        return any(slot is not None and slot.last is None and not slot.generated
                   and shared_length(slot.request.tokens, request.tokens) > have + SHARE_MIN for slot in slots)

    def _place(self, s: int, job: int, request: Request) -> _Slot:
        """Stream s keeps what it shares with the prompt (or takes a copy of a stream that shares more)."""
        tokens = request.tokens
        keep = [shared_length(h, tokens) for h in self.held]
        best = max((i for i in range(self.streams) if i not in self._copying), key=lambda i: keep[i])
        if keep[best] > keep[s] + SHARE_MIN:  # a stream with much more of the prompt: take a copy of its cells
            self.lib.llama_memory_seq_cp(self.mem, best, s, -1, -1)
            self.held[s] = list(self.held[best])
            keep[s] = keep[best]
            self._copying.add(s)
        cut = min(keep[s], len(tokens) - 1)  # at least one prompt token is evaluated, for fresh logits
        if not self.lib.llama_memory_seq_rm(self.mem, s, cut, -1):  # a cache that cannot be cut: start over
            self.lib.llama_memory_seq_rm(self.mem, s, -1, -1)
            cut = 0
        del self.held[s][cut:]
        return _Slot(job, request, tokens[cut:])

    # -- one decode -----------------------------------------------------------------------------------------------

    def _step(self, slots: list[_Slot | None]) -> list[tuple[int, str]]:
        """A decode of the prompt tokens still to evaluate (where any are), then one of every generating stream's
        last token; the streams whose next token is due are stepped. (stream, text) for those that finished."""
        finished: list[tuple[int, str]] = []
        prompting = {s: slot for s, slot in enumerate(slots) if slot is not None and slot.last is None}
        if prompting:
            width = max(1, min(max(len(p.todo) - p.todo_at for p in prompting.values()),
                               self.n_batch // (max(prompting) - min(prompting) + 1)))
            parts = {s: p.todo[p.todo_at:p.todo_at + width] for s, p in prompting.items()}
            finished += self._decode(slots, parts, {s: p.todo_at + len(parts[s]) == len(p.todo)
                                                    for s, p in prompting.items()})
        generating = {s: slot.last for s, slot in enumerate(slots) if slot is not None and slot.last is not None}
        if generating:
            finished += self._decode(slots, {s: [last] for s, last in generating.items()},
                                     dict.fromkeys(generating, True), min_rows=1)
        return finished

    def _decode(self, slots, parts: dict[int, list[int]], wants: dict[int, bool],
                min_rows: int = MIN_ROWS) -> list[tuple[int, str]]:
        """One llama_decode: stream s's `parts[s]` at its next positions, logits after the last one where
        `wants[s]`. Every stream gets the same number of rows (llama.cpp splits a batch of unequal streams into
        several small decodes), at least `min_rows` in all: a part is padded with copies of its last token, after
        it, where no real row attends; padding cells are removed after."""
        # Streams in a decode must be a run (0 and 3 without 1 and 2 gave other logits, by up to 0.6): a stream in
        # between with nothing to do gets padding rows too.
        streams = range(min(parts), max(parts) + 1)
        width = max(max(len(p) for p in parts.values()), -(-min_rows // len(streams)))
        rows = []  # (stream, token, position, logits, real)
        for s in streams:
            part = parts.get(s) or self.held[s][-1:] or [0]
            start = len(self.held[s])
            room = min(width, self.n_ctx - start)  # (never past the stream's last cell)
            real = len(parts.get(s, []))
            for j, token in enumerate((part + part[-1:] * width)[:max(room, real)]):
                rows.append((s, token, start + j, wants.get(s, False) and j == real - 1, j < real))
        lib = self.lib
        batch = lib.llama_batch_init(len(rows), 0, 1)
        try:
            for i, (s, token, pos, logits, _) in enumerate(rows):
                batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, 1, logits
                batch.seq_id[i][0] = s
            batch.n_tokens = len(rows)
            if lib.llama_decode(self.ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            self.decodes += 1
            self._copying.clear()
            self.rows += len(rows)
        finally:
            lib.llama_batch_free(batch)
            for s in streams:
                lib.llama_memory_seq_rm(self.mem, s, len(self.held[s]) + len(parts.get(s, [])), -1)
        finished = []
        for i, (s, token, pos, logits, real) in enumerate(rows):
            if not real:
                continue
            slot = slots[s]
            self.held[s].append(token)
            if slot.last is None:
                slot.todo_at += 1
            else:
                slot.last = None
            if logits:
                text = self._choose(slot, self._logits(i))
                if text is not None:
                    finished.append((s, text))
        return finished

    def _logits(self, row: int) -> np.ndarray:
        ptr = self.lib.llama_get_logits_ith(self.ctx, row)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))

    def _choose(self, slot: _Slot, logits: np.ndarray) -> str | None:
        """The next token by create_completion's rules; the finished text, or None to go on."""
        request, gen = slot.request, slot.generated
        if request.repeat_penalty != 1.0 and gen:
            seen = np.unique(np.asarray(gen[-PENALTY_LAST_N:], dtype=np.int64))
            logits = logits.copy()
            vals, p = logits[seen], np.float32(request.repeat_penalty)
            logits[seen] = np.where(vals <= 0, vals * p, vals / p)
        token = int(np.argmax(logits))
        request.chosen.append(float(logits[token]))
        if request.guard is not None and request.guard(np.asarray(gen, dtype=np.intc)):
            return self._text(gen)
        if self.lib.llama_vocab_is_eog(self.llm._model.vocab, token):
            return self._text(gen)
        gen.append(token)
        text = self.llm.detokenize(gen)
        for k, byte in enumerate(text[-3:]):  # a UTF-8 character still incomplete: no stop check yet
            k = 3 - k
            for num, pattern in ((2, 192), (3, 224), (4, 240)):
                if num > k and pattern & byte == pattern:
                    slot.multibyte = num - k
        if slot.multibyte > 0:
            slot.multibyte -= 1
            slot.last = token
            return None
        for stop in request.stops:
            if stop and stop.encode("utf-8") in text:
                return text[:text.index(stop.encode("utf-8"))].decode("utf-8", errors="ignore")
        if len(gen) >= request.max_tokens:
            return self._text(gen)
        slot.last = token
        return None

    def _text(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="ignore")


def shared_length(a, b) -> int:
    """How many tokens two sequences share from the start."""
    n = min(len(a), len(b))
    if not n:
        return 0
    same = np.asarray(a[:n]) == np.asarray(b[:n])
    return n if same.all() else int(np.argmin(same))
