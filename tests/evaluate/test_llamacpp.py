"""The in-process llama.cpp backend on the Gemma 3 270M model: prefix reuse against naive evaluation,
whole-continuation scoring, greedy generation, failures in their slot, and the stage end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT
from mmlu_ml.llama import assets
from mmlu_ml.core import mmlu
from mmlu_ml.core import protocols as prompts
from mmlu_ml.evaluate.models.llamacpp import LlamaCppModel, _log_softmax, decode_groups
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.llama.load import load_llama
from support.stages import run_evaluate
from mmlu_ml.core.languages import load
from mmlu_ml.core.paths import predictions_file
from mmlu_ml.core.records import read_jsonl

NAME = "gemma-3-270m-q4_k_m"
LETTERS = [" A", " B", " C", " D"]


@pytest.fixture(scope="module")
def gemma(gemma_path):
    return LlamaCppModel(NAME, ROOT / "cache", n_ctx=4096)


def subject_prompts(mmlu_dir, subject, n, protocol="gpt4"):
    ds = mmlu.load(str(mmlu_dir), [subject], ["dev", "test"])
    proto, en = prompts.get(protocol), load().languages["en"]
    prefix = proto.prefix(subject, en, ds.by_split("dev"), None)
    return prefix, [proto.suffix(q, en) for q in ds.by_split("test")[:n]]


def test_prefix_reuse_agrees_with_naive_evaluation(gemma, mmlu_dir):
    # short-question subjects keep this under a minute on a busy 2-core machine
    groups = [subject_prompts(mmlu_dir, s, 5) for s in ("marketing", "high_school_geography")]
    gemma.reuse_prefix, before = True, gemma.evaluated_tokens
    ours = [r for prefix, suffixes in groups for r in gemma.letter_logprobs(prefix, suffixes, LETTERS)]
    ours_tokens = gemma.evaluated_tokens - before
    gemma.reuse_prefix, before = False, gemma.evaluated_tokens
    try:
        naive = [r for prefix, suffixes in groups for r in gemma.letter_logprobs(prefix, suffixes, LETTERS)]
    finally:
        gemma.reuse_prefix = True
    naive_tokens = gemma.evaluated_tokens - before
    assert len(ours) == len(naive) == 10 and not any(isinstance(r, Exception) for r in ours + naive)
    assert ours == naive  # bit for bit: every token's cells, and its kernels on this model, as in a naive run
    # real probabilities over the letters, not constants
    assert all(-20 < v < 0 for r in ours for v in r.values()) and len({round(r["A"], 4) for r in ours}) > 1
    # token floor: each prefix once plus each question's own tokens; naive pays the prefix every time
    tok = lambda text: len(gemma._tokens(text))  # noqa: E731
    floor = sum(tok(p) + sum(tok(p + s) - tok(p) for s in ss) for p, ss in groups)
    full = sum(tok(p + s) for p, ss in groups for s in ss)
    assert naive_tokens == full and ours_tokens <= 1.05 * floor and ours_tokens < naive_tokens / 2


def test_questions_scored_together_equal_one_at_a_time_bit_for_bit(gemma, mmlu_dir):
    # astronomy's 5-shot prefix is 517 Gemma tokens: the prefix ends 5 tokens past a 512-token decode, the case
    # that needs every decode padded to 8 rows
    prefix, suffixes = subject_prompts(mmlu_dir, "astronomy", 7, protocol="mmlu5")
    assert len(gemma._tokens(prefix)) % gemma.n_batch < 8 and gemma.streams == 4
    gemma._forget()
    before = gemma.evaluated_tokens
    together = gemma.letter_logprobs(prefix, suffixes, LETTERS)
    together_tokens = gemma.evaluated_tokens - before
    gemma.streams = 1
    try:
        gemma._forget()
        alone = gemma.letter_logprobs(prefix, suffixes, LETTERS)
        gemma.reuse_prefix = False
        naive = gemma.letter_logprobs(prefix, suffixes, LETTERS)
    finally:
        gemma.streams, gemma.reuse_prefix = 4, True
    assert not any(isinstance(r, Exception) for r in together)
    assert together == alone == naive
    # fewer decodes, not fewer tokens: padding to each group's longest costs a little
    tok = lambda text: len(gemma._tokens(text))  # noqa: E731
    floor = tok(prefix) + sum(tok(prefix + s) - tok(prefix) for s in suffixes)
    assert floor <= together_tokens <= 1.15 * floor


def test_a_tokenizer_failure_stays_in_its_slot(gemma):
    out = gemma.letter_logprobs("Question:", [" one?\nAnswer:", " bad \ud800?\nAnswer:", " two?\nAnswer:"], LETTERS)
    assert isinstance(out[1], Exception) and isinstance(out[0], dict) and isinstance(out[2], dict)


def test_stream_count_out_of_range_is_refused(gemma_path, monkeypatch):
    monkeypatch.setenv("MMLU_ML_LLAMA_STREAMS", "8")
    with pytest.raises(MmluMlError, match="MMLU_ML_LLAMA_STREAMS must be a whole number from 1 to 7"):
        LlamaCppModel(NAME, ROOT / "cache", n_ctx=256)


def test_decode_groups_are_sorted_runs_within_limits():
    lengths = [40, 12, 300, 41, 39, 13, 200, 14, 42]
    groups = decode_groups(lengths, streams=4, max_cells=512)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(len(g) <= 4 and (len(g) == 1 or len(g) * max(lengths[i] for i in g) <= 512) for g in groups)
    flat = [lengths[i] for g in groups for i in g]
    assert flat == sorted(flat)  # runs of the length order: similar lengths pad little
    assert [sorted(lengths[i] for i in g) for g in groups] == [[12, 13, 14], [39, 40, 41, 42], [200], [300]]
    assert decode_groups([50, 60], streams=1, max_cells=512) == [[0], [1]]
    assert decode_groups([], streams=4, max_cells=512) == []


def test_multi_token_continuations_are_scored_whole(gemma, gemma_path):
    prompt = "Question: which animal barks?\nAnswer:"
    letters = [" A dog", " Bee", " cat)", " A"]
    ours = gemma.letter_logprobs("Question: which", [" animal barks?\nAnswer:"], letters)[0]
    # an independent path: one pass with logits for every position, summed along each continuation
    full = load_llama(gemma_path, n_ctx=256, logits_all=True, swa_full=True)
    base = full.tokenize(prompt.encode(), add_bos=True)
    for letter in letters:
        cont = full.tokenize((prompt + letter).encode(), add_bos=True)[len(base):]
        full.reset()
        full.eval(base + cont)
        expected = sum(float(_log_softmax(full.scores[len(base) - 1 + i].astype(np.float64))[t])
                       for i, t in enumerate(cont))
        # llama.cpp's sums depend on how tokens are batched (one pass here, token by token there): close, not equal
        assert ours[letter.strip()] == pytest.approx(expected, abs=0.2), letter
    assert ours["A dog"] < ours["A"]  # a two-token continuation pays for both of its tokens
    assert gemma.fingerprint()["scoring"] == "next-token"  # " A".." D" are single tokens for Gemma


def test_generate_is_greedy_deterministic_and_capped(gemma):
    first = gemma.generate(["The capital of France is", "1, 2, 3, 4,"], 8)
    second = gemma.generate(["The capital of France is", "1, 2, 3, 4,"], 8)
    assert first == second and all(isinstance(t, str) and t for t in first)
    assert all(len(gemma.llm.tokenize(t.encode(), add_bos=False)) <= 8 for t in first)
    assert "5" in first[1]
    # side by side (one KV stream each) equals one prompt per call
    assert first == [gemma.generate([p], 8)[0] for p in ["The capital of France is", "1, 2, 3, 4,"]]


CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def test_generation_goes_through_a_chat_template_when_there_is_one(gemma):
    assert gemma.generation_text("2 + 2 =") == "2 + 2 =" and gemma.fingerprint()["generate_with"] == "raw prompt"
    chat = LlamaCppModel(NAME, ROOT / "cache", n_ctx=1024, chat_template=CHATML)
    assert chat.generation_text("2 + 2 =") == "<|im_start|>user\n2 + 2 =<|im_end|>\n<|im_start|>assistant\n"
    assert chat.fingerprint()["generate_with"] == "chat template (given)"
    assert chat.fingerprint() != gemma.fingerprint()  # a cached raw-prompt answer is never reused for a chat one
    [reply] = chat.generate(["2 + 2 ="], 6)
    assert isinstance(reply, str) and chat.evaluated_tokens > len(chat.llm.tokenize(b"2 + 2 =")) + 5


def test_too_long_prompt_fails_in_its_slot_only(gemma_path):
    small = LlamaCppModel(NAME, ROOT / "cache", n_ctx=128)
    out = small.letter_logprobs("Question:", [" short?\nAnswer:", " long" * 300 + "?\nAnswer:", " ok?\nAnswer:"],
                                LETTERS)
    assert isinstance(out[1], ValueError) and f"exceeds the context of {small.n_ctx}" in str(out[1])
    assert isinstance(out[0], dict) and isinstance(out[2], dict) and set(out[2]) == set("ABCD")
    fp = small.fingerprint()
    assert fp["sha256"] == assets.ASSETS[NAME].sha256 and fp["backend"] == "llamacpp" and "n_ctx" not in fp


def test_stage_end_to_end_on_gemma(tmp_path, mmlu_dir, gemma_path):
    rows = run_evaluate(source=str(mmlu_dir), languages="en", subjects="astronomy,marketing", splits="test", limit=2,
                        cache_dir=str(ROOT / "cache"), out=str(tmp_path / "out"), model=f"llamacpp:{NAME}",
                        protocol="mmlu5", shots=1).rows
    assert rows[0]["n"] == 4 and rows[0]["errors"] == 0 and rows[0]["model"] == NAME
    assert rows[0]["signature"].startswith(f"protocol:mmlu5|shots:1|translator:source|model:{NAME}@a5fd3b62|n:4/")
    preds = list(read_jsonl(predictions_file(tmp_path / "out", NAME, "mmlu5", "en")))
    assert [p["id"] for p in preds] == ["astronomy/test/0", "astronomy/test/1", "marketing/test/0", "marketing/test/1"]
    assert all(p["predicted"] == max(p["logprobs"], key=p["logprobs"].get) for p in preds)
    manifest = json.loads((tmp_path / "out" / "evaluation.manifest.json").read_text())
    assert manifest[f"{NAME}/mmlu5"]["model"]["fingerprint"]["sha256"] == assets.ASSETS[NAME].sha256
    from mmlu_ml.llama.load import machine
    assert manifest[f"{NAME}/mmlu5"]["languages"]["en"]["machines"] == [machine()]  # the build and CPU behind it


def test_unknown_or_broken_model_is_refused(tmp_path):
    from mmlu_ml.core.errors import MmluMlError

    with pytest.raises(MmluMlError, match="unknown model 'no-such-model'"):
        LlamaCppModel("no-such-model", tmp_path)
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(MmluMlError, match="llama.cpp cannot load .*broken.gguf"):
        LlamaCppModel(str(broken), tmp_path)
