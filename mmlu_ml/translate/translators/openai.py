"""`openai`: translation by any OpenAI-compatible chat model (OpenAI, vLLM, llama.cpp's server, Ollama).

Several strings per request as a numbered JSON object, so a reply cannot shift translations between strings
(translate/llm/prompt.py's parse_batch rejects missing, extra or reordered ids). Two layers of retry, one per kind of
fault: the SDK retries HTTP 429/5xx and dropped connections (honouring Retry-After; core/openai_client.py builds
the client and counts its retries); a reply that arrives but
cannot be trusted is asked again here (bounded, with backoff), then its batch is split in halves so one bad
string cannot fail its neighbours; a string that still fails is None, never a translation.
The key comes from OPENAI_API_KEY only and appears in no fingerprint, message or log.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from ...core import openai_client, secrets
from ...core.endpoints import public_url, unresolved
from ...core.errors import MmluMlError
from ...core.languages import Language
from .base import Translator
from ...core.text import keep_as_is
from ..llm.prompt import PROMPT_VERSION, ReplyError, batch_messages, parse_batch

DEFAULT_BASE_URL = openai_client.DEFAULT_BASE_URL
REPLY_ATTEMPTS = 3      # asks per batch when the reply is malformed, before splitting the batch
SDK_RETRIES = 4         # HTTP-level retries the SDK makes (429, 5xx, connection errors)
BACKOFF_S = 0.2         # first pause after a malformed reply (a content fault, not load); doubles, jittered


class OpenAITranslator(Translator):
    name = "openai"
    max_items = 8
    max_chars = 6_000

    def __init__(self, model: str | None, cache_dir: Path, concurrency: int = 4, base_url: str | None = None,
                 timeout: float = 120.0, backoff_s: float = BACKOFF_S, max_retries: int = SDK_RETRIES):
        if not model:
            raise MmluMlError("the openai translator needs a chat model: pass --translator-model NAME "
                              "(or set MMLU_ML_TRANSLATOR_MODEL)")
        self.model = model
        self._where = openai_client.endpoint(base_url, "openai translator")
        self.base_url = self._where.url  # as given (credentials and all) for the SDK; fingerprint() shows less
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.backoff_s = backoff_s
        self.max_retries = max_retries
        self._client = None
        self.attempts = openai_client.Attempts()  # every HTTP request the SDK sent, and its retries among them
        self._client_lock = threading.Lock()
        self._local = threading.local()
        self._cap_param = "max_tokens"  # the output cap's name: servers disagree (see _ask)

    def fingerprint(self) -> dict:
        return {"backend": "openai", "model": self.model, "server": public_url(self.base_url),
                "prompt": PROMPT_VERSION, "temperature": 0, "batch": self.max_items}

    def preflight(self) -> None:
        # local servers (llama.cpp, vLLM, Ollama) need no key: the client sends a placeholder
        if not self._where.key and not self._where.loopback:
            raise MmluMlError(f"OPENAI_API_KEY is not set; export it to use {public_url(self.base_url)} "
                              "(servers on this machine need none)")

    def _sdk(self):
        with self._client_lock:
            if self._client is None:
                self.preflight()
                self._client = openai_client.build(self._where, self._where.key, timeout=self.timeout,
                                                   retries=self.max_retries, attempts=self.attempts)
            return self._client

    def usage(self) -> dict:
        """Requests made and characters sent for the calling thread's translate() calls (retries included)."""
        return {"requests": getattr(self._local, "requests", 0), "billed_chars": getattr(self._local, "chars", 0)}

    def _ask(self, texts: list[str], source: Language, target: Language, tally: list) -> str | None:
        """One chat request (the SDK retries HTTP faults); configuration errors become MmluMlError."""
        import openai
        with self._client_lock:
            tally[0] += 1
            tally[1] += sum(map(len, texts))
        cap = min(16_384, 64 + 3 * sum(map(len, texts)))
        try:
            reply = self._sdk().chat.completions.create(
                model=self.model, messages=batch_messages(texts, source, target), temperature=0,
                **{self._cap_param: cap})
        except openai.BadRequestError as exc:
            if self._cap_param == "max_tokens" and "max_tokens" in _message(exc):
                self._cap_param = "max_completion_tokens"  # newer OpenAI models take only this name
                return self._ask(texts, source, target, tally)
            raise ReplyError(secrets.scrub(f"request refused (400, {_code(exc)})")) from None
        except openai.AuthenticationError:
            raise MmluMlError(f"{public_url(self.base_url)} refused the API key (401); check OPENAI_API_KEY") from None
        except openai.PermissionDeniedError:
            raise MmluMlError(f"{public_url(self.base_url)} denied access (403); check the key's permissions") from None
        except openai.NotFoundError:
            raise MmluMlError(f"{public_url(self.base_url)} does not serve model {self.model!r} (404); "
                              "check --translator-model and OPENAI_BASE_URL") from None
        return reply.choices[0].message.content if reply.choices else None

    def _batch(self, texts: list[str], source: Language, target: Language, tally: list) -> list[str | None]:
        import openai
        for attempt in range(REPLY_ATTEMPTS):
            try:
                return list(parse_batch(self._ask(texts, source, target, tally), len(texts)))
            except ReplyError:
                if attempt + 1 < REPLY_ATTEMPTS:
                    time.sleep(self.backoff_s * 2 ** attempt * (0.5 + random.random()))
            except (openai.APIConnectionError, openai.APIStatusError) as exc:
                if unresolved(exc):  # a mistyped host: no retry can help
                    raise MmluMlError(f"the host {urlsplit(self.base_url).hostname!r} of {public_url(self.base_url)} "
                                      "does not resolve; check --translator-args base_url / OPENAI_BASE_URL") from None
                return [None] * len(texts)  # the SDK already retried: the server is down or overloaded
        if len(texts) == 1:
            return [None]
        half = len(texts) // 2  # isolate the string the model cannot handle from its neighbours
        return self._batch(texts[:half], source, target, tally) + self._batch(texts[half:], source, target, tally)

    def translate(self, texts: list[str], source: Language, target: Language) -> list[str | None]:
        """Translations in input order; batches of max_items, `concurrency` of them in flight."""
        out: list[str | None] = [t if keep_as_is(t) else None for t in texts]
        send = [i for i, t in enumerate(texts) if not keep_as_is(t)]
        tally = [0, 0]  # requests, characters sent: charged to the calling thread when done
        chunks = [[texts[i] for i in send[j:j + self.max_items]] for j in range(0, len(send), self.max_items)]
        try:
            if len(chunks) == 1:
                results = [self._batch(chunks[0], source, target, tally)]
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    results = list(pool.map(lambda chunk: self._batch(chunk, source, target, tally), chunks))
            for i, r in zip(send, (r for chunk in results for r in chunk)):
                out[i] = r
            return out
        finally:
            self._local.requests = getattr(self._local, "requests", 0) + tally[0]
            self._local.chars = getattr(self._local, "chars", 0) + tally[1]


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _code(exc) -> str:
    body = getattr(exc, "body", None)
    return str(body.get("code") or body.get("type") or "bad request")[:60] if isinstance(body, dict) else "bad request"
