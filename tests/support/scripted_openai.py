"""A scripted OpenAI-compatible model server on 127.0.0.1 for the openai model backend's tests: each test gives
the answers of /completions and /chat/completions as callables (`scripted`), and the real SDK talks HTTP to it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(top: dict[str, float] | None, text: str = " B") -> dict:
    logprobs = None if top is None else {"tokens": [text], "token_logprobs": [max(top.values())],
                                         "top_logprobs": [top], "text_offset": [0]}
    return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "fake",
            "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": "length"}]}


def chat(content: str, top: list[tuple[str, float]] | None = None) -> dict:
    logprobs = None
    if top is not None:
        entries = [{"token": t, "logprob": v, "bytes": list(t.encode())} for t, v in top]
        logprobs = {"content": [{**entries[0], "top_logprobs": entries}]}
    return {"id": "chat-1", "object": "chat.completion", "created": 1, "model": "fake",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": content}}]}


class FakeServer:
    """An OpenAI-compatible server whose answers a test scripts: `handle(path, body, headers)` returns
    (status, json, delay_s, extra headers). It records every request and the most requests in flight."""

    def __init__(self, handle):
        self.handle, self.requests, self.in_flight, self.peak = handle, [], 0, 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, body):
                with outer.lock:
                    outer.requests.append((self.path, body, dict(self.headers)))
                    outer.in_flight += 1
                    outer.peak = max(outer.peak, outer.in_flight)
                counted = True
                try:
                    status, payload, delay, headers = outer.handle(self.path, body, self.headers)
                    time.sleep(delay)
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    # stop counting before the answer goes out: a client that has read it may send its next
                    # request before this thread gets further, and must not look one over its limit
                    with outer.lock:
                        outer.in_flight -= 1
                    counted = False
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    if counted:
                        with outer.lock:
                            outer.in_flight -= 1

            def do_GET(self):
                self._serve(None)

            def do_POST(self):
                self._serve(json.loads(self.rfile.read(int(self.headers["content-length"]))))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def posts(self, endpoint: str) -> list:
        return [r for r in self.requests if r[0].endswith(endpoint)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


MODELS_LIST = {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]}
TOP = {" B": -0.4, " A": -1.5, " C": -2.0, " D": -2.5, "B": -3.0}


def scripted(completions=None, chats=None, delay=0.0):
    """A handler: /models lists fake-model; completions/chat answers come from the given callables."""

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
