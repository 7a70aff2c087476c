"""A fake Azure AI Translator (text, API version 2026-06-06) on 127.0.0.1, for the real SDK to talk to.

It speaks the JSON the pinned SDK sends and reads: POST /translate?api-version=2026-06-06 with
{"inputs": [{"text", "language", "textType", "targets": [{"language"}]}]}, answering
{"value": [{"translations": [{"language", "text", "sourceCharacters"}]}]} and x-metered-usage; errors as
{"error": {"code", "message"}}. Like the service it enforces 1,000 elements and 50,000 characters per request
(UTF-16 units, counted once per target), checks the key (and region, when given), and can answer 429 with
Retry-After or 500 some of the time (seeded), or a scripted list of statuses first, after added latency.

"Translation" is deterministic and reversible: `[<target>] ` then ROT13 of the ASCII letters, leaving tags,
entities and notranslate spans exactly as sent. `untranslate()` inverts it.

Run alone (the benchmark does, so the server has its own interpreter): python tests/fake_azure.py --latency 0.2
prints `port N` and serves until killed; GET /stats returns the counters as JSON.
"""

from __future__ import annotations

import argparse
import codecs
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2026-06-06"
MAX_ELEMENTS = 1000
MAX_CHARS = 50_000
DROP, SHORT, TRUNC, SLOW = -1, -2, -3, -4
_TOKENS = re.compile(r"""(<span\s+class\s*=\s*["']notranslate["']\s*>.*?</span\s*>|<[^>]*>|&#?\w+;)""", re.S | re.I)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fake_translate(text: str, target: str, html: bool) -> str:
    """The fake's translation: a language marker and ROT13 outside tags, entities and notranslate spans."""
    if not html:
        return f"[{target}] " + codecs.encode(text, "rot13")
    parts = _TOKENS.split(text)  # odd indices are the kept tokens
    return f"[{target}] " + "".join(p if i % 2 else codecs.encode(p, "rot13") for i, p in enumerate(parts))


def untranslate(text: str, target: str) -> str:
    """Inverse of `fake_translate` after the client removed the HTML (ROT13 of a protected span is also
    undone here, so only use it to compare with sources that have no protected spans)."""
    prefix = f"[{target}] "
    assert text.startswith(prefix), text[:40]
    return codecs.encode(text[len(prefix):], "rot13")


@contextmanager
def serving(monkeypatch, **options):
    """A FakeAzure, with the AZURE_TRANSLATOR_* variables pointing at it for the test's duration."""
    with FakeAzure(**options) as server:
        monkeypatch.setenv("AZURE_TRANSLATOR_KEY", server.key)
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", server.endpoint)
        if server.region:
            monkeypatch.setenv("AZURE_TRANSLATOR_REGION", server.region)
        else:
            monkeypatch.delenv("AZURE_TRANSLATOR_REGION", raising=False)
        yield server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that went away is not our error


class FakeAzure:
    """Start with `with FakeAzure(key=...) as fake:`; `fake.endpoint` is the base URL for the SDK."""

    def __init__(self, key: str = "test-key", region: str | None = None, latency: float = 0.0,
                 p429: float = 0.0, p500: float = 0.0, retry_after: str = "0", retry_after_5xx: bool = False,
                 languages: set[str] | None = None, seed: int = 0, port: int = 0, echo_key: bool = False):
        self.key, self.region, self.latency = key, region, latency
        self.p429, self.p500, self.retry_after, self.retry_after_5xx = p429, p500, retry_after, retry_after_5xx
        self.languages = languages           # target codes it knows (None: any)
        self.echo_key = echo_key             # a careless server: its error messages repeat the key it was sent
        # statuses to answer first, in order, then normal behaviour: an HTTP status, DROP (close the
        # connection without a reply), SHORT (a 200 that leaves out the last translation), TRUNC (a 200 whose
        # JSON body is cut in half) or SLOW (a normal reply after `slow_s` seconds, past a client's timeout)
        self.script: list[int] = []
        self.slow_s = 3.0
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.stats: Counter = Counter()      # requests, ok, status_<code>, elements, characters, peak_in_flight
        self.in_flight = 0
        self.request_log: list[dict] = []    # per answered request: received, answered (t), elements, characters
        self.server = _Server(("127.0.0.1", port), self._handler())  # a fixed port keeps fingerprints (they name the endpoint)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "FakeAzure":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> dict:
        with self.lock:
            return dict(self.stats)

    def _decide(self) -> int:
        with self.lock:
            self.stats["requests"] += 1
            if self.script:
                return self.script.pop(0)
            roll = self.random.random()
        if roll < self.p429:
            return 429
        if roll < self.p429 + self.p500:
            return 500
        return 200

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RequestId", f"fake-{fake.stats['requests']}")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self._leave()  # before the client can read the answer and send its next request
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str, headers: dict | None = None) -> None:
                if fake.echo_key:
                    message += f" (your key {self.headers.get('Ocp-Apim-Subscription-Key')} is fine)"
                with fake.lock:
                    fake.stats[f"status_{status}"] += 1
                self._reply(status, {"error": {"code": str(code), "message": message}}, headers)

            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/stats":
                    self._reply(200, fake.snapshot())
                else:
                    self._error(404, 404000, "Not found")

            def do_POST(self) -> None:
                with fake.lock:  # requests being answered at once: the client's concurrency as seen here
                    fake.in_flight += 1
                    fake.stats["peak_in_flight"] = max(fake.stats["peak_in_flight"], fake.in_flight)
                self.counted = True
                try:
                    self._post()
                finally:
                    self._leave()

            def _leave(self) -> None:
                # a request stops counting once its answer is on the way; counting it until the handler
                # returned made a client that had already read the answer look one request over
                if getattr(self, "counted", False):
                    self.counted = False
                    with fake.lock:
                        fake.in_flight -= 1

            def _post(self) -> None:
                received = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                url = urlsplit(self.path)
                if url.path != "/translate":
                    return self._error(404, 404000, "The requested resource was not found.")
                status = fake._decide()
                if fake.latency:
                    time.sleep(fake.latency)
                if status == SLOW:
                    time.sleep(fake.slow_s)
                    status = 200
                if status == DROP:
                    with fake.lock:
                        fake.stats["dropped"] += 1
                    self.close_connection = True
                    self._leave()
                    self.connection.shutdown(2)  # the client sees a reset connection, no status line
                    return
                if parse_qs(url.query).get("api-version") != [API_VERSION]:
                    return self._error(400, 400021, "The API version parameter is missing or invalid.")
                if self.headers.get("Ocp-Apim-Subscription-Key") != fake.key:
                    return self._error(401, 401000, "The request is not authorized because credentials "
                                                    "are missing or invalid.")
                if fake.region and self.headers.get("Ocp-Apim-Subscription-Region") != fake.region:
                    return self._error(401, 401015, "The region does not match the resource's region.")
                if status == 429:
                    return self._error(429, 429001, "The server rejected the request because the client has "
                                       "exceeded request limits.", {"Retry-After": fake.retry_after})
                if status not in (200, SHORT, TRUNC):
                    return self._error(status, status * 1000, "An unexpected error occurred.",
                                       {"Retry-After": fake.retry_after} if fake.retry_after_5xx else None)
                try:
                    inputs = json.loads(raw)["inputs"]
                    targets = [[t["language"] for t in item["targets"]] for item in inputs]
                    texts = [item["text"] for item in inputs]
                    html = [str(item.get("textType") or "plain").lower() == "html" for item in inputs]
                except (ValueError, KeyError, TypeError):
                    return self._error(400, 400074, "The body of the request is not valid JSON.")
                if not inputs or len(inputs) > MAX_ELEMENTS:
                    return self._error(400, 400077, f"The request has {len(inputs)} elements; the array must "
                                                    f"have 1 to {MAX_ELEMENTS}.")
                unknown = sorted({lang for tg in targets for lang in tg} - (fake.languages or set())) \
                    if fake.languages is not None else []
                if unknown:
                    return self._error(400, 400036, f"The target language is not valid: {unknown[0]}.")
                chars = sum(_utf16(t) * len(tg) for t, tg in zip(texts, targets))
                if chars > MAX_CHARS:
                    return self._error(400, 400077, f"The maximum request size has been exceeded ({chars} "
                                                    f"characters, limit {MAX_CHARS}).")
                value = [{"translations": [{"language": lang, "text": fake_translate(t, lang, h),
                                            "sourceCharacters": _utf16(t)} for lang in tg]}
                         for t, tg, h in zip(texts, targets, html)]
                if status == SHORT:
                    value = value[:-1]
                with fake.lock:
                    fake.stats["ok"] += 1
                    fake.stats["elements"] += len(inputs)
                    fake.stats["characters"] += chars
                    fake.request_log.append({"t": time.monotonic(), "received": received, "elements": len(inputs),
                                             "characters": chars})
                    fake.stats.setdefault("first_t", fake.request_log[0]["t"])
                    fake.stats["last_t"] = fake.request_log[-1]["t"]
                    fake.stats["service_s"] = fake.stats.get("service_s", 0.0) + time.monotonic() - received
                if status == TRUNC:
                    data = json.dumps({"value": value}, ensure_ascii=False).encode("utf-8")
                    data = data[: len(data) // 2]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self._reply(200, {"value": value}, {"x-metered-usage": str(chars)})

        return Handler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", default="test-key")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--p429", type=float, default=0.0)
    ap.add_argument("--p500", type=float, default=0.0)
    args = ap.parse_args()
    with FakeAzure(key=args.key, latency=args.latency, p429=args.p429, p500=args.p500) as fake:
        print(f"port {fake.port}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
