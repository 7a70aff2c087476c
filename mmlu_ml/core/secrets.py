"""The one scrubber: every error text that came from a server goes through `scrub` before it is printed,
written to a file or put in an exception, so a key a careless server echoes never leaves the process."""

from __future__ import annotations

import os

# every key or token the tool (or a library it drives) reads from the environment
SECRET_VARIABLES = ("OPENAI_API_KEY", "AZURE_TRANSLATOR_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
PLACEHOLDER_KEY = "sk-no-key-needed"  # local servers ignore the key, but the SDK insists on one
MIN_SECRET = 4  # shorter strings are not scrubbed: replacing "ab" everywhere would garble the text, not hide a key


def scrub(text: str, *extra: str) -> str:
    """`text` with every secret we know replaced by ***: the keys and tokens of SECRET_VARIABLES from the
    environment, and `extra` (a client's own). Longest first, so a key that contains another goes whole."""
    secrets = {os.environ.get(name) or "" for name in SECRET_VARIABLES} | set(extra)
    for secret in sorted((s for s in secrets if len(s) >= MIN_SECRET and s != PLACEHOLDER_KEY), key=len,
                         reverse=True):
        text = text.replace(secret, "***")
    return text
