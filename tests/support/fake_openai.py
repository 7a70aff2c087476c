"""A fake OpenAI-compatible server on 127.0.0.1, for the real `openai` SDK to talk to (nothing is patched).

Two ways to answer, one server:
- translation (the default): POST /v1/chat/completions answers like the service ({"id", "object":
  "chat.completion", "created", "model", "choices": [{"index", "message": {"role", "content"}, "finish_reason"}],
  "usage"}); errors as {"error": {"message", "type", "code"}} with the status. GET /v1/models lists the one model.
  "Translation" is deterministic: `[<target name>] ` then ROT13 of the ASCII letters, leaving `$...$` as sent.
  When the last user message is a JSON object (the batch protocol), the reply is a JSON object with the same
  keys, each value translated; otherwise the reply is the translated text.
- scripted (`handle=`, or `server.handle = ...` mid-test): `handle(path, body, headers)` returns (status, json)
  or (status, json, delay_s, extra headers); `scripted()` builds one from callables for /completions and
  /chat/completions, with `completion()` and `chat()` to shape their answers (the model backend's tests).

With `key`, a wrong bearer key gets 401 with the key echoed in the message, as careless servers do, so tests can
prove we never repeat it; without, any key passes. Every request is recorded in `calls` as (path, body, headers),
the chat bodies the translation mode answered in `requests`, every status sent in `statuses`, and the most
requests in flight at once in `peak`.

Translation faults, scripted per request in order (`faults=[...]`, one entry consumed per request; None = behave):
  "http_429" (Retry-After: 0), "http_500", "malformed" (not JSON), "drop" (last id missing), "extra" (an id
  added), "reorder" (ids swapped), "empty" (empty content), "fence" (valid JSON in a ``` fence), "not_object"
  (a JSON list), "blank_value" (one value ""), "slow" (answers after `slow_s`).
and `poison`: texts whose id is always dropped from batch replies (a string that can never be translated);
`reject_params`: request fields answered with 400 "Unsupported parameter" (newer OpenAI models and max_tokens).
"""

from __future__ import annotations

import codecs
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_MATH = re.compile(r"(\$[^$]*\$)")
_TARGET = re.compile(r"into ([A-Z][\w ]*?) \(")
MODELS_LIST = {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]}
TOP = {" B": -0.4, " A": -1.5, " C": -2.0, " D": -2.5, "B": -3.0}


def fake_translate(text: str, target: str) -> str:
    parts = _MATH.split(text)
    return f"[{target}] " + "".join(p if i % 2 else codecs.encode(p, "rot13") for i, p in enumerate(parts))


def untranslate(text: str, target: str) -> str:
    """The source of a `fake_translate` output."""
    prefix = f"[{target}] "
    assert text.startswith(prefix), text
    parts = _MATH.split(text[len(prefix):])
    return "".join(p if i % 2 else codecs.encode(p, "rot13") for i, p in enumerate(parts))


def completion(top: dict[str, float] | None, text: str = " B") -> dict:
    """A /completions answer of one token, with its top log-probabilities (None: the server sent none)."""
    logprobs = None if top is None else {"tokens": [text], "token_logprobs": [max(top.values())],
                                         "top_logprobs": [top], "text_offset": [0]}
    return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "fake",
            "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": "length"}]}


def chat(content: str, top: list[tuple[str, float]] | None = None, model: str = "fake") -> dict:
    """A /chat/completions answer; `top`: the first token's top log-probabilities, as (token, logprob)."""
    logprobs = None
    if top is not None:
        entries = [{"token": t, "logprob": v, "bytes": list(t.encode())} for t, v in top]
        logprobs = {"content": [{**entries[0], "top_logprobs": entries}]}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def scripted(completions=None, chats=None, delay=0.0):
    """A handler: /models lists fake-model; completions/chat answers come from the given callables
    `(body, headers) -> (status, json)` or `(status, json, delay_s, headers)`; an endpoint without one is 404."""

    def handle(path, body, headers):
        if path.endswith("/models"):
            return 200, MODELS_LIST, 0, {}
        if path.endswith("/completions") and "/chat/" not in path:
            if completions is None:
                return 404, {"error": {"message": "no such endpoint"}}, 0, {}
            answer = completions(body, headers)
        elif chats is None:
            return 404, {"error": {"message": "no such endpoint"}}, 0, {}
        else:
            answer = chats(body, headers)
        return (*answer, delay, {}) if len(answer) == 2 else answer

    return handle


class FakeOpenAI:
    """`with FakeOpenAI(key="sk-test") as server:` (or `server.close()`); `server.url` is the base URL (…/v1)."""

    def __init__(self, key: str | None = None, model: str = "fake-translator", faults=None, poison=(),
                 slow_s: float = 2.0, reject_params=(), handle=None):
        self.key, self.model, self.slow_s, self.handle = key, model, slow_s, handle
        self.faults = list(faults or [])
        self.poison = set(poison)
        self.reject_params = set(reject_params)  # request fields answered with 400, as newer models do
        self.calls: list[tuple[str, dict | None, dict]] = []  # every request: (path, body, headers)
        self.requests: list[dict] = []  # the chat bodies the translation mode answered, in arrival order
        self.statuses: list[int] = []
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def __enter__(self) -> "FakeOpenAI":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def posts(self, endpoint: str) -> list:
        """The calls to paths ending in `endpoint` ("/completions" matches chat too, as a path suffix does)."""
        return [c for c in self.calls if c[0].endswith(endpoint)]

    def answer(self, path: str, body: dict | None, headers) -> tuple[int, dict | str, float, dict]:
        """(status, JSON body or raw text, delay_s, headers) for one request."""
        given = headers.get("Authorization", "")
        if self.key is not None and given != f"Bearer {self.key}":
            return 401, _error(f"Incorrect API key provided: {given.removeprefix('Bearer ')}", "invalid_api_key"), 0, {}
        if self.handle is not None:
            answer = self.handle(path, body, headers)
            return (*answer, 0, {}) if len(answer) == 2 else answer
        if body is None:  # GET
            if path.rstrip("/").endswith("/models"):
                return 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]}, 0, {}
            return 404, _error("not found", "not_found"), 0, {}
        if not path.rstrip("/").endswith("/chat/completions"):
            return 404, _error("not found", "not_found"), 0, {}
        if body.get("model") != self.model:
            return 404, _error(f"The model `{body.get('model')}` does not exist", "model_not_found"), 0, {}
        with self._lock:
            self.requests.append(body)
        refused = sorted(self.reject_params & set(body))
        if refused:
            return 400, {"error": {"message": f"Unsupported parameter: '{refused[0]}' is not supported with this "
                                   "model.", "type": "invalid_request_error", "param": refused[0],
                                   "code": "unsupported_parameter"}}, 0, {}
        return self.reply_for(body)

    def _next_fault(self):
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def reply_for(self, body: dict) -> tuple[int, dict | str, float, dict]:
        """The translation mode's answer to one chat request."""
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        found = _TARGET.search(system)
        target = found.group(1) if found else "xx"
        user = messages[-1]["content"] if messages else ""
        fault = self._next_fault()
        if fault == "http_429":
            return 429, _error("Rate limit reached, retry later", "rate_limit_exceeded"), 0, {"Retry-After": "0"}
        if fault == "http_500":
            return 500, _error("The server had an error", "server_error"), 0, {}
        try:
            batch = json.loads(user)
        except json.JSONDecodeError:
            batch = None
        if isinstance(batch, dict):
            out = {k: fake_translate(v, target) for k, v in batch.items() if v not in self.poison}
            content = self._damage(out, fault)
        else:
            content = "" if fault == "empty" else fake_translate(user, target)
        return 200, chat(content, model=self.model), self.slow_s if fault == "slow" else 0, {}

    @staticmethod
    def _damage(out: dict, fault) -> str:
        keys = list(out)
        if fault == "drop" and keys:
            out.pop(keys[-1])
        elif fault == "extra":
            out[str(len(keys) + 7)] = "[extra]"
        elif fault == "reorder" and len(keys) > 1:
            keys[0], keys[1] = keys[1], keys[0]
            out = {k: out[k] for k in keys}
        elif fault == "blank_value" and keys:
            out[keys[0]] = ""
        text = json.dumps(out, ensure_ascii=False)
        return {"malformed": text[:-3] + "...", "empty": "", "fence": f"```json\n{text}\n```",
                "not_object": json.dumps(list(out.values()), ensure_ascii=False)}.get(fault, text)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self, body) -> None:
                with fake._lock:
                    fake.calls.append((self.path, body, dict(self.headers)))
                    fake.in_flight += 1
                    fake.peak = max(fake.peak, fake.in_flight)
                counted = True
                try:
                    status, payload, delay, headers = fake.answer(self.path, body, self.headers)
                    time.sleep(delay)
                    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                    # stop counting before the answer goes out: a client that has read it may send its next
                    # request before this thread gets further, and must not look one over its limit
                    with fake._lock:
                        fake.statuses.append(status)
                        fake.in_flight -= 1
                    counted = False
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    if counted:
                        with fake._lock:
                            fake.in_flight -= 1

            def do_GET(self):
                self._serve(None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(json.loads(self.rfile.read(length) or b"{}"))

        return Handler


def _error(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}
