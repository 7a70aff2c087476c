"""A fake OpenAI-compatible chat server on 127.0.0.1, for the real `openai` SDK to talk to.

POST /v1/chat/completions answers like the service: {"id", "object": "chat.completion", "created", "model",
"choices": [{"index", "message": {"role", "content"}, "finish_reason"}], "usage"}; errors as
{"error": {"message", "type", "code"}} with the status. GET /v1/models lists the one model. A wrong bearer
key gets 401 with the key echoed in the message, as careless servers do, so tests can prove we never repeat it.

"Translation" is deterministic: `[<target name>] ` then ROT13 of the ASCII letters, leaving `$...$` as sent.
When the last user message is a JSON object (the batch protocol), the reply is a JSON object with the same
keys, each value translated; otherwise the reply is the translated text.

Faults, scripted per request in order (`faults=[...]`, one entry consumed per request; None = behave):
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


def fake_translate(text: str, target: str) -> str:
    parts = _MATH.split(text)
    return f"[{target}] " + "".join(p if i % 2 else codecs.encode(p, "rot13") for i, p in enumerate(parts))


def untranslate(text: str, target: str) -> str:
    """The source of a `fake_translate` output."""
    prefix = f"[{target}] "
    assert text.startswith(prefix), text
    parts = _MATH.split(text[len(prefix):])
    return "".join(p if i % 2 else codecs.encode(p, "rot13") for i, p in enumerate(parts))


class FakeOpenAI:
    """Start with `with FakeOpenAI(key="sk-test") as server:`; `server.url` is the base URL (…/v1)."""

    def __init__(self, key: str = "sk-test-key", model: str = "fake-translator", faults=None, poison=(),
                 slow_s: float = 2.0, reject_params=()):
        self.key, self.model, self.slow_s = key, model, slow_s
        self.faults = list(faults or [])
        self.poison = set(poison)
        self.reject_params = set(reject_params)  # request fields answered with 400, as newer models do
        self.requests: list[dict] = []  # every chat request body, in arrival order
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self):
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def reply_for(self, body: dict) -> tuple[int, dict | str, dict]:
        """(status, JSON body or raw text, headers) for one chat request."""
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        found = _TARGET.search(system)
        target = found.group(1) if found else "xx"
        user = messages[-1]["content"] if messages else ""
        fault = self._next_fault()
        if fault == "http_429":
            return 429, _error("Rate limit reached, retry later", "rate_limit_exceeded"), {"Retry-After": "0"}
        if fault == "http_500":
            return 500, _error("The server had an error", "server_error"), {}
        if fault == "slow":
            time.sleep(self.slow_s)
        try:
            batch = json.loads(user)
        except json.JSONDecodeError:
            batch = None
        if isinstance(batch, dict):
            out = {k: fake_translate(v, target) for k, v in batch.items() if v not in self.poison}
            content = self._damage(out, fault)
        else:
            content = "" if fault == "empty" else fake_translate(user, target)
        return 200, _completion(content, self.model), {}

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

            def _send(self, status: int, payload, headers=None) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                with fake._lock:
                    fake.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                given = self.headers.get("Authorization", "")
                if given == f"Bearer {fake.key}":
                    return True
                self._send(401, _error(f"Incorrect API key provided: {given.removeprefix('Bearer ')}",
                                       "invalid_api_key"))
                return False

            def do_GET(self):
                if not self._authorized():
                    return
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
                else:
                    self._send(404, _error("not found", "not_found"))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorized():
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, _error("not found", "not_found"))
                    return
                if body.get("model") != fake.model:
                    self._send(404, _error(f"The model `{body.get('model')}` does not exist", "model_not_found"))
                    return
                with fake._lock:
                    fake.requests.append(body)
                refused = sorted(fake.reject_params & set(body))
                if refused:
                    self._send(400, {"error": {"message": f"Unsupported parameter: '{refused[0]}' is not supported "
                                               "with this model.", "type": "invalid_request_error",
                                               "param": refused[0], "code": "unsupported_parameter"}})
                    return
                status, payload, headers = fake.reply_for(body)
                self._send(status, payload, headers)

        return Handler


def _error(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _completion(content: str, model: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
