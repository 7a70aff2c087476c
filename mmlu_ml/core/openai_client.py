"""The one way this project builds an `openai.OpenAI` client, for the model backend and the translator alike.

`endpoint()` checks a base URL and warns (core/endpoints.py's one warning, once per URL, logged) when plain http
would carry prompts and the key to another machine; `build()` makes the client with the SDK's own retries, counted by an httpx request
hook (`Attempts`) so the backends can still report requests and retries (secrets are scrubbed by
core/secrets.py's `scrub`).
"""

from __future__ import annotations

import functools
import os
import random
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .endpoints import is_loopback, public_url, warn_plain_http
from .errors import MmluMlError
from .secrets import PLACEHOLDER_KEY

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_AFTER_CAP_S = 60.0  # the longest a server's Retry-After makes us wait when our own backoff is set
RETRY_HEADER = "x-stainless-retry-count"  # the SDK numbers each attempt of a call: 0 first, then 1, 2, ...


@dataclass(frozen=True)
class Endpoint:
    """A checked base URL. `url` goes to the SDK as given (it may hold credentials); `public` is what fingerprints
    and messages show; `defaulted` is true when neither the caller nor OPENAI_BASE_URL named a server."""

    url: str
    public: str
    loopback: bool
    defaulted: bool

    @property
    def key(self) -> str:
        """OPENAI_API_KEY, read when needed (never stored on an object that might be printed)."""
        return os.environ.get("OPENAI_API_KEY") or ""


def endpoint(base_url: str | None, who: str = "openai") -> Endpoint:
    """`base_url`, else OPENAI_BASE_URL, else OpenAI's own API: checked to be http(s), with a warning when it is
    plain http to another machine. `who` starts the messages ("openai", "openai translator")."""
    given = base_url or os.environ.get("OPENAI_BASE_URL") or None
    url = (given or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MmluMlError(f"{who}: base URL {public_url(url)!r} is not an http(s) URL; pass one like "
                          "http://127.0.0.1:8000/v1 or https://host/v1 (--base-url or OPENAI_BASE_URL)")
    loopback = is_loopback(parts.hostname)
    if parts.scheme == "http" and not loopback:
        warn_plain_http(url, who)
    return Endpoint(url=url, public=public_url(url), loopback=loopback, defaulted=given is None)


class Attempts:
    """An httpx request hook: counts the HTTP requests a client sends and how many were the SDK's retries.
    Thread-safe; the counts are the client's, across all threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def __call__(self, request) -> None:
        retry = retry_number(request) > 0
        with self._lock:
            self.requests += 1
            self.retries += retry


def retry_number(request) -> int:
    """Which attempt of its call `request` is, from 0 (what the SDK tells the server in RETRY_HEADER)."""
    try:
        return int(request.headers.get(RETRY_HEADER) or 0)
    except (AttributeError, ValueError):
        return 0


def attempts_of(exc: BaseException) -> int:
    """How many attempts the call that raised `exc` made: the SDK's errors carry the last request sent."""
    request = getattr(exc, "request", None)
    return retry_number(request) + 1 if request is not None else 1


def build(where: Endpoint, key: str, *, timeout: float, retries: int, attempts: Attempts,
          backoff: float | None = None):
    """An `openai.OpenAI` on `where` that retries 408/409/429/5xx, timeouts and lost connections itself, up to
    `retries` times, each attempt counted by `attempts`. backoff None: the SDK's own pauses; a number: Retry-After
    (capped at RETRY_AFTER_CAP_S) else backoff * 2**retry, jittered down to half."""
    import openai

    http = openai.DefaultHttpxClient(event_hooks={"request": [attempts]})  # keeps the SDK's limits and redirects
    options: dict[str, Any] = {"api_key": key or PLACEHOLDER_KEY, "base_url": where.url,
                               "max_retries": max(0, int(retries)), "timeout": timeout, "http_client": http}
    if backoff is None:
        return openai.OpenAI(**options)
    client = _client_class()(**options)
    client.mmlu_backoff = backoff
    return client


@functools.cache
def _client_class():
    """The SDK's client with our backoff between its retries (MMLU_ML_OPENAI_BACKOFF): the SDK keeps deciding
    what to retry and how often; only the pause is ours. Made on first use: openai is an optional package."""
    import openai

    class BackoffClient(openai.OpenAI):
        mmlu_backoff: float | None = None

        def _calculate_retry_timeout(self, remaining_retries, options, response_headers=None):
            if self.mmlu_backoff is None:
                return super()._calculate_retry_timeout(remaining_retries, options, response_headers)
            after = (response_headers or {}).get("retry-after")
            try:
                if after is not None:
                    return min(max(float(after), 0.0), RETRY_AFTER_CAP_S)
            except ValueError:
                pass  # an HTTP date, or nonsense: fall back to our backoff
            retry = max(0, options.get_max_retries(self.max_retries) - remaining_retries)
            return self.mmlu_backoff * 2 ** min(retry, 30) * random.uniform(0.5, 1.0)

    return BackoffClient
