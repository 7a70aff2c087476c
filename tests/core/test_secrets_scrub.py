"""core/secrets.py: the one scrubber every server's error text goes through."""

from __future__ import annotations

from mmlu_ml.core import secrets


def test_every_key_and_token_read_from_the_environment_is_scrubbed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-1234")
    monkeypatch.setenv("AZURE_TRANSLATOR_KEY", "azure-5678")
    monkeypatch.setenv("HF_TOKEN", "hf_token_9012")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_hub_3456")
    text = "sk-openai-1234 azure-5678 hf_token_9012 hf_hub_3456 own-key-77 ab"
    assert secrets.scrub(text, "own-key-77", "ab") == "*** *** *** *** *** ab"
