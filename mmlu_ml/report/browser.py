"""Headless chromium, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`).

The pipe needs no port, no websocket and no extra package: chromium reads NUL-terminated JSON commands
from file descriptor 3 and writes replies and events to descriptor 4. Used by the report to screenshot
leaderboard.html and by the tests to check the page in a real browser (render, sort on click, console).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..core.errors import MmluMlError

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--no-default-browser-check", "--hide-scrollbars",
         "--mute-audio", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    """Chromium failed, timed out or answered a command with an error."""


def find_chromium() -> str | None:
    """MMLU_ML_CHROMIUM, else the first chromium-like browser on PATH (Debian's is `chromium`)."""
    chosen = os.environ.get("MMLU_ML_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else shutil.which(chosen)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


class Browser:
    """One headless chromium with a throw-away profile; use as a context manager."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0):
        exe = executable or find_chromium()
        if not exe:
            raise MmluMlError("no chromium found; install it (Debian: apt-get install chromium) "
                              "or set MMLU_ML_CHROMIUM to the browser's path")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="mmlu-ml-chromium-")
        self.events: list[dict] = []
        self._id = 0
        self._buf = b""
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()

        def arrange_fds():  # runs in the child: put the pipe ends where chromium expects them
            a = fcntl.fcntl(child_in, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(child_out, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)

        self._log = open(Path(self.profile) / "chromium.log", "wb")
        try:
            self.proc = subprocess.Popen(
                [exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"], stdin=subprocess.DEVNULL,
                stdout=self._log, stderr=self._log, preexec_fn=arrange_fds, close_fds=False)
        except OSError as exc:
            self._cleanup()
            raise MmluMlError(f"cannot start chromium at {exe} ({exc.strerror}); set MMLU_ML_CHROMIUM") from None
        finally:
            os.close(child_in)
            os.close(child_out)

    # --- protocol ---

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"chromium did not answer within {self.timeout:.0f}s")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise self._gone()
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def _gone(self) -> BrowserError:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return BrowserError(f"chromium closed its pipe (exit code {code})")

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_child, data):]
        except BrokenPipeError:
            raise self._gone() from None
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str | None = None) -> dict:
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event.get("params", {})
            seen = len(self.events)
            self.events.append(self._read_message(deadline))

    def open(self, url: str) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        page.navigate(url)
        return page

    # --- lifetime ---

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        if hasattr(self, "_log"):
            self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Page:
    """One tab, attached with a flat session: everything it logs is kept in the browser's event list."""

    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def navigate(self, url: str) -> None:
        result = self.browser.send("Page.navigate", {"url": url}, self.session)
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression: str):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                        "awaitPromise": True}, self.session)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            what = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"script failed: {what}")
        return result.get("result", {}).get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed + released) at the centre of the element."""
        x, y = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) throw new Error('no element ' + " + json.dumps(selector) + ");"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                           "clickCount": 1}, self.session)

    def _events(self, *methods: str) -> list[dict]:
        return [e for e in self.browser.events if e.get("sessionId") == self.session and e.get("method") in methods]

    def errors(self) -> list[str]:
        """Console errors, failed assertions, uncaught exceptions and browser-logged errors (CSP, loads)."""
        self.evaluate("0")  # flush: events sent before this reply are now in the list
        found = []
        for e in self._events("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded"):
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                found.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                found.append(p["entry"].get("text", "error"))
        return found

    def requests(self) -> list[str]:
        """URLs the page asked for (the page itself included)."""
        self.evaluate("0")
        return [e["params"]["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def screenshot(self, path: Path, width: int = 1280, max_height: int = 12000) -> Path:
        """The whole page as a PNG, `width` CSS pixels wide."""
        send = self.browser.send
        send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 800, "deviceScaleFactor": 1,
                                                    "mobile": False}, self.session)
        size = send("Page.getLayoutMetrics", session=self.session).get("cssContentSize", {})
        height = int(min(max_height, max(800, size.get("height", 800))))
        send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                    "mobile": False}, self.session)
        shot = send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, self.session)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(base64.b64decode(shot["data"]))
        os.replace(tmp, path)
        return path
