"""Azure AI Translator through the azure-ai-translation-text 2.x SDK (API version 2026-06-06).

Configuration from the environment only: AZURE_TRANSLATOR_KEY (never stored or printed),
AZURE_TRANSLATOR_REGION (for regional or multi-service resources), AZURE_TRANSLATOR_ENDPOINT (default: the
public global endpoint). Text goes as HTML so protected spans (mmlu_ml.core.protect) ride in notranslate spans.

Retries are azure-core's RetryPolicy, configured rather than wrapped: it already retries 408/429/500/502/503/
504 and sleeps what Retry-After says; we bound the attempts and add POST to the retried methods (by default
azure-core retries a POST only on 500/503/504, so a 429 without Retry-After, a 502 or a reset connection would
fail at once). Translation has no side effect, so a repeated POST is safe; at worst the service bills twice.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.ai.translation.text import TextTranslationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import AzureError, DecodeError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest

from ...core import protect
from ...core.endpoints import is_loopback, unresolved, warn_plain_http
from ...core.errors import MmluMlError
from ...core.languages import Language
from ...core.secrets import scrub
from .base import Translator
from ..pacing import pack

API_VERSION = "2026-06-06"  # what the pinned SDK major version speaks; part of the fingerprint
DEFAULT_ENDPOINT = "https://api.cognitive.microsofttranslator.com"
RETRY: dict[str, Any] = {  # azure-core RetryPolicy settings: at most 8 attempts, 0.5 s doubling to 30 s when no Retry-After
    "retry_total": 7, "retry_status": 7, "retry_connect": 3, "retry_read": 3,
    "retry_backoff_factor": 0.5, "retry_backoff_max": 30,
}
REPLY_RETRIES = 2  # a 200 whose JSON is truncated or short is asked again this many times, then reported
RETRY_METHODS = frozenset({"POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


_MALFORMED = object()


class _CountAttempts(SansIOHTTPPolicy):
    """Sits after the retry policy, so it sees every HTTP attempt, retries included."""

    def __init__(self, owner: "AzureTranslator"):
        super().__init__()
        self.owner = owner

    def on_request(self, request) -> None:
        self.owner._count("requests", 1)


class AzureTranslator(Translator):
    name = "azure"
    protects = True  # protect's spans come back unchanged: each text's spans are in its cache key
    max_items = 1000       # documented per-request limits; counted on the HTML we send
    max_chars = 50_000
    hard_max_chars = True  # a longer element is refused by the service, whatever we retry
    bills_characters = True  # priced by the character: the dry run's USD (--price-per-million, S1 list price)

    def __init__(self, model: str | None, cache_dir: Path, concurrency: int = 4):
        if model:
            raise MmluMlError(f"the azure translator takes no model (got {model!r}); "
                              "drop --translator-model / unset MMLU_ML_TRANSLATOR_MODEL")
        endpoint = (os.environ.get("AZURE_TRANSLATOR_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise MmluMlError("AZURE_TRANSLATOR_ENDPOINT must be an http(s) URL without credentials or query, "
                              f"like {DEFAULT_ENDPOINT}")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            warn_plain_http(endpoint, "azure (AZURE_TRANSLATOR_ENDPOINT)")
        self.endpoint = endpoint
        self.region = os.environ.get("AZURE_TRANSLATOR_REGION") or None
        self.concurrency = concurrency
        self._local = threading.local()  # per thread: the SDK client and the usage counters

    def fingerprint(self) -> dict:
        # The endpoint names the engine (the public service, a container, a test server); never the key.
        parts = urlsplit(self.endpoint)
        return {"backend": "azure", "engine": "azure-translator", "endpoint": f"{parts.netloc}{parts.path}",
                "api_version": API_VERSION, "text_type": "html", "protect": protect.VERSION}

    def preflight(self) -> None:
        """Fail before any work when nothing could be sent."""
        if not os.environ.get("AZURE_TRANSLATOR_KEY"):
            raise MmluMlError("AZURE_TRANSLATOR_KEY is not set; export your Translator resource's key "
                              "(and AZURE_TRANSLATOR_REGION for a regional resource)")

    def request_chars(self, text: str) -> int:
        """What `text` counts toward a request's 50,000 characters and the bill: its HTML, in UTF-16 units."""
        return protect.utf16_len(protect.to_html(text))

    def usage(self) -> dict:
        """HTTP attempts (retries included) and characters billed, by the calling thread so far."""
        return dict(getattr(self._local, "usage", {"requests": 0, "billed_chars": 0}))

    def _count(self, what: str, n: int) -> None:
        if not hasattr(self._local, "usage"):
            self._local.usage = {"requests": 0, "billed_chars": 0}
        self._local.usage[what] = self._local.usage.get(what, 0) + n

    def _client(self) -> TextTranslationClient:
        # One client per thread: each keeps its own connection pool, so requests in flight never queue on one.
        client = getattr(self._local, "client", None)
        if client is None:
            self.preflight()
            client = TextTranslationClient(
                endpoint=self.endpoint, credential=AzureKeyCredential(os.environ["AZURE_TRANSLATOR_KEY"]),
                region=self.region, api_version=API_VERSION, per_retry_policies=[_CountAttempts(self)],
                connection_timeout=15, read_timeout=float(os.environ.get("MMLU_ML_AZURE_TIMEOUT") or 120),
                **RETRY)
            self._local.client = client
        return client

    def translate(self, texts: list[str], source: Language, target: Language) -> list[str | None]:
        markup = [protect.to_html(t) for t in texts]
        sizes = [protect.utf16_len(m) for m in markup]
        out: list[str | None] = [None] * len(texts)
        # The stage packs by the same measure; this re-packing only splits what a caller packed too big.
        for idx in pack(sizes, self.max_items, self.max_chars):
            if sizes[idx[0]] > self.max_chars:  # one element over the service's limit: reported as failed
                continue
            for i, text in zip(idx, self._send([markup[i] for i in idx], source.azure, target.azure)):
                out[i] = text
        return out

    def _send(self, markup: list[str], source: str, target: str) -> list[str | None]:
        """One request; a 200 whose body is truncated JSON or holds fewer items than sent is asked again
        (bounded; azure-core retries only on status codes), never guessed at."""
        for attempt in range(REPLY_RETRIES + 1):
            out = self._send_once(markup, source, target)
            if out is not _MALFORMED:
                return out
            self._count("malformed_replies", 1)
            time.sleep(min(0.25 * 2 ** attempt, 2.0))
        return [None] * len(markup)

    def _send_once(self, markup: list[str], source: str, target: str):
        # The request the SDK's `translate` builds, sent through the SDK's own pipeline (auth, retries) with
        # `send_request`: `translate` turns every element of the reply into model objects, ~0.16 ms each,
        # which for one language (60k strings) is more CPU than the whole job's network time.
        body = {"inputs": [{"text": m, "language": source, "textType": "Html", "targets": [{"language": target}]}
                           for m in markup]}
        request = HttpRequest("POST", "/translate", params={"api-version": API_VERSION},
                              headers={"Content-Type": "application/json", "Accept": "application/json"},
                              content=json.dumps(body, ensure_ascii=False).encode("utf-8"))
        try:
            response = self._client().send_request(request, retry_on_methods=RETRY_METHODS)
        except DecodeError:  # a 200 whose JSON body is cut short: the pipeline decodes it before we see it
            return _MALFORMED
        except AzureError as exc:
            if unresolved(exc):  # a mistyped host: no retry can help
                raise MmluMlError(f"the host {urlsplit(self.endpoint).hostname!r} of AZURE_TRANSLATOR_ENDPOINT does "
                                  "not resolve; check its spelling (and the network's DNS)") from None
            return [None] * len(markup)  # connection errors and timeouts, still failing after the retries
        if response.status_code in (401, 403):
            raise MmluMlError(f"Azure Translator refused the credentials ({response.status_code}); check "
                              "AZURE_TRANSLATOR_KEY and AZURE_TRANSLATOR_REGION")
        if response.status_code == 400:  # a request we built wrong (language code, limits): retrying cannot help
            detail = _error_of(response)
            fix = ("check the language's `azure` code in languages.yaml" if "language" in detail.lower()
                   else "mmlu-ml built a request the service refuses; please report it with this message")
            raise MmluMlError(f"Azure Translator rejected a request to {target!r} (400 {detail}); {fix}")
        if response.status_code == 404:  # a mistyped path: every request would get the same answer
            raise MmluMlError(f"AZURE_TRANSLATOR_ENDPOINT {self.endpoint} answers 404 for its /translate: check "
                              f"the path (the global endpoint is {DEFAULT_ENDPOINT}, with none)")
        if response.status_code != 200:
            return [None] * len(markup)  # 429/5xx still failing after the retries: these strings failed
        try:
            items = response.json()["value"]
            assert isinstance(items, list) and len(items) == len(markup)
        except (ValueError, KeyError, TypeError, AssertionError):
            return _MALFORMED  # a truncated or short reply: never guess which item is which
        out: list[str | None] = []
        billed = 0
        for item, sent in zip(items, markup):
            translations = item.get("translations") if isinstance(item, dict) else None
            found = [t for t in translations or [] if isinstance(t, dict) and t.get("language") == target]
            text = found[0].get("text") if found else None
            if not isinstance(text, str) or (sent.strip() and not text.strip()):
                out.append(None)
                continue
            chars = found[0].get("sourceCharacters")
            billed += chars if isinstance(chars, int) else protect.utf16_len(sent)
            out.append(protect.from_html(text))
        self._count("billed_chars", billed)
        return out


def _error_of(response) -> str:
    """`code: message` of the service's error JSON, short, for a one-line error."""
    try:
        error = response.json()["error"]
        return scrub(f"{error.get('code')}: {error.get('message')}")[:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "no detail"
