"""The hf backend on a tiny random Llama and a byte-level BPE tokenizer built here (no hub, no download):
its prefix-cached letter scores and greedy text equal a plain full-prompt computation."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from mmlu_ml.core.registry import load
from mmlu_ml.evaluate.models import MODELS
from mmlu_ml.evaluate.models.hf import HFModel
from mmlu_ml.core.errors import MmluMlError

SPACED = (" A", " B", " C", " D")
CORPUS = [
    "The following are multiple choice questions (with answers) about astronomy.",
    "Question: Why is the sky blue?\nA) oceans\nB) scattering\nC) dust\nD) ozone\nAnswer: B",
    "Which planet is largest?\nA) Mars\nB) Venus\nC) Jupiter\nD) Earth\nAnswer: C",
    "What is 2 + 2?\nA) 3\nB) 4\nC) 5\nD) 6\nAnswer: B. The answer is A or D.",
]
PREFIX = "The following are multiple choice questions (with answers) about astronomy.\n\n" + CORPUS[1] + "\n\n"
SUFFIXES = ["Which planet is largest?\nA) Mars\nB) Venus\nC) Jupiter\nD) Earth\nAnswer:",
            "What is 2 + 2?\nA) 3\nB) 4\nC) 5\nD) 6\nAnswer:",
            "Why?\nAnswer:"]


def build(folder, seed: int):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 20, trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>"],
                                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=0, eos_token_id=1)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build(tmp_path_factory.mktemp("tiny-llama"), seed=0)


def naive_scores(m: HFModel, prompt: str, letters) -> dict[str, float]:
    """log P(letter | prompt) from one full forward pass over prompt + letter tokens, no cache."""
    ids = m.tokenizer(prompt)["input_ids"]
    out = {}
    for letter in letters:
        full = m.tokenizer(prompt + letter)["input_ids"]
        cont = full[len(ids):] if full[: len(ids)] == ids else m.tokenizer(letter, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(m.model(torch.tensor([ids + cont])).logits[0].double(), -1)
        out[letter.strip()] = sum(float(logp[len(ids) - 1 + i, t]) for i, t in enumerate(cont))
    return out


def test_registered_and_fingerprinted(tiny, tmp_path):
    m = load(MODELS, "hf", "model")(str(tiny), tmp_path)
    fp = m.fingerprint()
    assert isinstance(m, HFModel) and fp["backend"] == "hf" and fp["scoring"] == "next-token"
    assert fp["revision"].startswith("sha256:") and fp["dtype"] == "float32" and "transformers" in fp["runtime"]
    assert HFModel(str(tiny), tmp_path).fingerprint() == fp  # stable, and remembered in the cache folder
    other = HFModel(str(build(tmp_path / "other", seed=1)), tmp_path).fingerprint()
    assert other["revision"] != fp["revision"]


def test_prefix_cached_letters_equal_a_full_forward_pass(tiny, tmp_path):
    m = HFModel(str(tiny), tmp_path)
    got = m.letter_logprobs(PREFIX, SUFFIXES, SPACED)
    plain = HFModel(str(tiny), tmp_path, reuse_prefix=False)
    again = plain.letter_logprobs(PREFIX, SUFFIXES, SPACED)
    for suffix, scores, scores_plain in zip(SUFFIXES, got, again, strict=True):
        want = naive_scores(m, PREFIX + suffix, SPACED)
        assert set(scores) == set("ABCD")
        for letter in "ABCD":
            assert scores[letter] == pytest.approx(want[letter], abs=1e-4)
            assert scores_plain[letter] == pytest.approx(want[letter], abs=1e-4)
    assert m.evaluated_tokens < plain.evaluated_tokens  # the prefix ran once, not once per question


def test_letters_of_several_tokens_score_the_whole_continuation(tiny, tmp_path):
    m = HFModel(str(tiny), tmp_path)
    letters = (" Jupiter", " Venus", " zqxj", " B")  # words of several tokens, and one letter
    [scores] = m.letter_logprobs(PREFIX, SUFFIXES[:1], letters)
    want = naive_scores(m, PREFIX + SUFFIXES[0], letters)
    assert len(m.tokenizer(" zqxj", add_special_tokens=False)["input_ids"]) > 1
    assert scores == pytest.approx(want, abs=1e-4)


def test_greedy_generation_equals_argmax_decoding(tiny, tmp_path):
    m = HFModel(str(tiny), tmp_path)
    prompt = SUFFIXES[1]
    ids = m.tokenizer(prompt)["input_ids"]
    for _ in range(6):
        with torch.no_grad():
            nxt = int(m.model(torch.tensor([ids])).logits[0, -1].argmax())
        if nxt == m.tokenizer.eos_token_id:
            break
        ids.append(nxt)
    want = m.tokenizer.decode(ids[len(m.tokenizer(prompt)["input_ids"]):], skip_special_tokens=True)
    assert m.generate([prompt], 6) == [want]


def test_missing_model_is_a_one_line_error(tmp_path):
    with pytest.raises(MmluMlError, match="cannot load") as err:
        HFModel(str(tmp_path / "nothing-here"), tmp_path)
    assert "\n" not in str(err.value)
