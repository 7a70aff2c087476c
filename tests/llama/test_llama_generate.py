"""Generation side by side in KV streams (mmlu_ml.llama.generate), in real llama.cpp on the 270M Gemma."""

from __future__ import annotations

import numpy as np
import pytest
from llama_cpp import StoppingCriteriaList

from mmlu_ml.translate.translators.local import _repeating_tail
from mmlu_ml.llama.generate import Generator, Request
from mmlu_ml.llama.load import load_llama

GEMMA = "gemma-3-270m-q4_k_m"
PREFIX = "Translate into French.\nEnglish: Good morning\nFrench: Bonjour\n\nEnglish: The cat sleeps\nFrench: Le chat dort\n\n"
TEXTS = ["Which planet is the largest?", "oxygen and water", "the cat the cat the cat the cat the cat the cat",
         "The judge ruled that the contract was void.", "Find the sum of all integers k such that k^2 < 20.",
         "None of the above", "Hello", "A ball is dropped from a height of 20 m.",
         # longer than a decode holds: evaluated in pieces of 512 rows alone and of 128 beside three others
         " ".join(f"Step {i}: add {i} apples to the basket." for i in range(60))]


def _requests(llm, penalty_every: int = 3) -> list[Request]:
    out = []
    for k, text in enumerate(TEXTS):
        tokens = llm.tokenize(f"{PREFIX}English: {text}\nFrench:".encode(), add_bos=True, special=True)
        out.append(Request(tokens, 12 + 5 * k, ["\nEnglish:", "\n\n"] if k % 2 else [],
                           1.2 if k % penalty_every == 0 else 1.0, _repeating_tail))
    return out


def _job(request: Request):
    return (yield request)


def _run(llm, streams: int, requests: list[Request]) -> tuple[list, Generator]:
    generator = Generator(llm, streams)
    return generator.run([_job(r) for r in requests]), generator


def test_side_by_side_equals_one_at_a_time_bit_for_bit(gemma_path):
    four = load_llama(gemma_path, 1024, streams=4, swa_full=True)
    together, generator = _run(four, 4, requests := _requests(four))
    one = load_llama(gemma_path, 1024, swa_full=True)
    alone, _ = _run(one, 1, requests_alone := _requests(one))
    assert together == alone and all(isinstance(t, str) for t in together)
    # the logits themselves, not only the tokens: "Hello" is a prompt of 4 new tokens, padded to 8 rows alone and
    # to its decode-mates' length among them
    assert [r.chosen for r in requests] == [r.chosen for r in requests_alone]
    assert len(set(together)) > 3  # real, different replies
    # the few-shot prefix was evaluated once and copied: far fewer decodes than one stream needs
    assert generator.decodes < 0.6 * sum(r.max_tokens for r in _requests(four))


def test_rules_match_llama_cpp_python_create_completion(gemma_path):
    """Greedy choice after the repeat penalty, stop strings, the token cap and the guard, as create_completion
    applies them (each prompt on an empty cache there, so both evaluate it in one decode)."""
    llm = load_llama(gemma_path, 1024, swa_full=True)
    requests = _requests(llm, penalty_every=2)
    ours, _ = _run(llm, 1, requests)
    theirs = []
    for r in requests:
        llm.reset()
        guard = StoppingCriteriaList([lambda ids, logits, n=len(r.tokens): _repeating_tail(ids[n:])])
        out = llm.create_completion(r.tokens, max_tokens=r.max_tokens, temperature=0.0, top_k=1,
                                    repeat_penalty=r.repeat_penalty, stop=r.stops, stopping_criteria=guard)
        theirs.append(out["choices"][0]["text"])
    assert ours == theirs


def test_a_failing_job_or_a_prompt_too_long_leaves_the_others_alone(gemma_path):
    llm = load_llama(gemma_path, 256, streams=2, swa_full=True)
    short = Request(llm.tokenize(b"English: Hello\nFrench:", add_bos=True), 6)
    too_long = Request(list(short.tokens) * 40, 6)

    def broken(request):
        yield request
        raise KeyError("a bug in the job")

    def retried(request):
        try:
            yield too_long
        except ValueError as exc:  # thrown into the job, which may go on
            return (str(exc), (yield request))

    results = Generator(llm, 2).run([_job(too_long), broken(short), retried(short), _job(short)])
    assert isinstance(results[0], ValueError) and "too long for the model context" in str(results[0])
    assert isinstance(results[1], KeyError)
    assert results[2][0].startswith("text too long") and results[2][1] == results[3] and isinstance(results[3], str)


def test_streams_are_checked():
    with pytest.raises(ValueError, match="from 1 to 7"):
        Generator(type("L", (), {})(), 8)


def test_the_guard_ends_a_loop_early(gemma_path):
    llm = load_llama(gemma_path, 512, swa_full=True)
    tokens = llm.tokenize(b"the cat the cat the cat the cat the cat the cat the cat", add_bos=True)
    calls = []

    def guard(generated: np.ndarray) -> bool:
        calls.append(len(generated))
        return _repeating_tail(generated)

    [text] = Generator(llm, 1).run([_job(Request(tokens, 300, [], 1.0, guard))])
    assert calls[0] == 0 and calls == list(range(len(calls)))  # asked before each token, of those before it
    assert len(llm.tokenize(text.encode(), add_bos=False)) <= 70
