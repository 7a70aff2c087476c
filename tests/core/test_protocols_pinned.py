"""What a protocol records and renders, pinned by digest: `settings()` enters every cache key and config key, and
the prompts enter the response cache, so a refactor of protocols must leave both byte for byte as they are."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from mmlu_ml.core import protocols
from mmlu_ml.core.languages import load
from mmlu_ml.core.records import Question


def digest(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                           separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SETTINGS = {
    ("gpt4", None, None): "58e7646acf9f378ffd3c2c09ca04362272bcbb03424e5eceb559b6dadc2b9358",
    ("mmlu5", None, None): "fb7e7bb671294e8f9e2f180a39e85c2edb494e13bfd351ec49f439af08e637cb",
    ("cot0", None, None): "ee7724fe474df81a2a7427eec2ba683f8c0b260c97922e0e34d7fd2d129aa69d",
    ("gpt4", 0, None): "7a9f004fe1abfc91916498e45ccd0265b804a44df426c7bcee109e827e3dd1d7",
    ("mmlu5", 2, 64): "b374e6aad310c6e491567b9a7a256d30d88e50f3fd4ad9578d79a801959292da",
    ("cot0", None, 64): "ff665cae45cbac6a990b7a61b490ea6a3dffc8c9c2d61e907758abf51abb59c5",
}


@pytest.mark.parametrize("name,shots,max_tokens", sorted(SETTINGS, key=str))
def test_settings_are_pinned(name, shots, max_tokens):
    settings = protocols.get(name, shots, max_tokens).settings()
    assert digest(settings) == SETTINGS[(name, shots, max_tokens)], settings


SHOTS = [Question("virology", "dev", i, f" Shot {i}? ", (" a", "b ", f"c{i}", "d"), "ABCD"[i % 4]) for i in range(5)]
QUESTION = Question("virology", "test", 0, "Which virus?  ", ("HIV ", " flu", "cold", "none"), "B")
LINES = {"gopher": {"virology": "Ein KI-Modell beantwortet Fragen über Virologie"},
         "cot": {"virology": "Beantworte die Frage über Virologie. Denke Schritt für Schritt."}}

PROMPTS = {
    ("gpt4", "en"): "317b34cd554579fe1652c4d901ef315f6b9b080f6718b25f374f9d6de58e7e64",
    ("gpt4", "de"): "915629e8cf6bdb06de7b43f501d8f167375f0876b9173efb6e92db781eaec87e",
    ("mmlu5", "en"): "5cf30e52a3a0d0d295db151575b094d892789ccf4f48d36089a55ebe3c5438ef",
    ("mmlu5", "de"): "5cf30e52a3a0d0d295db151575b094d892789ccf4f48d36089a55ebe3c5438ef",
    ("cot0", "en"): "91ec98c7789b91fa93c45513ce27cd2d945b6875d851965a5b0e1af7a6810b58",
    ("cot0", "de"): "e38b52533f71929a8e55c2ce6379df262cefb834753ff97013d42a01f1a4f02d",
    ("cot0", "ar"): "4cf2e33a8852d4af1b0149bfc86e9cef5c8e50b7556233c83df1651abc6098e5",
}


@pytest.mark.parametrize("name,code", sorted(PROMPTS))
def test_prompts_are_pinned(name, code):
    language = load().languages[code]
    proto = protocols.get(name)
    prefix = proto.prefix("virology", language, SHOTS, None if code == "en" else LINES)
    assert digest(prefix + "\x00" + proto.suffix(QUESTION, language)) == PROMPTS[(name, code)], prefix


def test_english_lines_of_an_imported_set_are_pinned():
    from mmlu_ml.evaluate.inputs import english_instructions
    lines = english_instructions(SHOTS[:1] + [replace(QUESTION, subject="astronomy")])
    assert digest(lines) == "697f343019add21ef5c37443d04035f4cc7b1c07efcb975ac112550b179fa425"
    assert list(lines) == ["gopher", "cot", "english"]  # templates.KINDS order, as before
