"""Headless Chromium for printing the report and for checking it as a reader's browser shows it.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-terminated JSON messages on file descriptors 3 and 4), so it needs neither a
websocket client library nor a TCP port: nothing listens, not even on loopback.
Each ``Browser`` starts with a fresh, throw-away profile and the flags below.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError

INSTALL_COMMAND = "apt-get update && apt-get install -y chromium poppler-utils"
EXECUTABLES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
ENVIRONMENT_VARIABLE = "READINESS_CHROMIUM"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars",
    "--remote-debugging-pipe",
)
_READ_END, _WRITE_END = 3, 4  # the descriptors Chromium reads commands from and writes replies to


class BrowserError(ReadinessError):
    """Chromium is missing, did not start, or failed a command."""

    def __init__(self, message: str):
        super().__init__(None, message)


def find_chromium() -> str:
    """The Chromium executable: ``$READINESS_CHROMIUM`` or the first of EXECUTABLES on PATH."""
    chosen = os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen:
        if shutil.which(chosen):
            return shutil.which(chosen)
        raise BrowserError(f"{ENVIRONMENT_VARIABLE}={chosen}: no such executable")
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(f"headless Chromium not found (looked for {', '.join(EXECUTABLES)}); "
                       f"install it with: {INSTALL_COMMAND}")


class Browser:
    """One headless Chromium process; use as a context manager. ``open(url)`` gives a loaded ``Page``."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="readiness-chromium-")
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child: put the pipe ends where Chromium expects them
            source = os.dup(replies_write) if replies_write == _READ_END else replies_write
            os.dup2(commands_read, _READ_END)
            os.dup2(source, _WRITE_END)

        try:
            self._process = subprocess.Popen(
                [executable or find_chromium(), *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=wire_pipes, pass_fds=(_READ_END, _WRITE_END),
            )
        except BaseException:
            self._close_pipes()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        finally:
            os.close(commands_read)
            os.close(replies_write)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.send("Browser.close", timeout=5)
            except (BrowserError, OSError):
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._close_pipes()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _close_pipes(self) -> None:
        for fd in (self._commands, self._replies):
            try:
                os.close(fd)
            except OSError:
                pass

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(remaining, 0))
            if not ready:
                raise BrowserError(f"Chromium did not answer within {self.timeout:.0f}s")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium exited unexpectedly (exit code {self._process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        """Send one DevTools command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._commands, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"Chromium exited unexpectedly (exit code {self._process.poll()})") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self._events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self._events.pop(index)
            self._events.append(self._read_message(deadline))

    def events(self, session: str) -> list[dict]:
        return [e for e in self._events if e.get("sessionId") == session]

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> "Page":
        """A new tab showing ``url``, returned once its load event has fired."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        navigation = self.send("Page.navigate", {"url": url}, session=session)
        if navigation.get("errorText"):
            raise BrowserError(f"{url}: {navigation['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session, url)


class Page:
    """A loaded tab: evaluate script, read console errors, save a screenshot or a PDF."""

    def __init__(self, browser: Browser, session: str, url: str):
        self.browser, self.session, self.url = browser, session, url

    def evaluate(self, expression: str) -> Any:
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.session)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (e.g. a missing resource) so far."""
        problems = []
        for event in self.browser.events(self.session):
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                problems.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                problems.append(f"exception: {details.get('exception', {}).get('description') or details['text']}")
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                problems.append(f"log: {params['entry']['text']}")
        return problems

    def screenshot(self, path: Path | str, *, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.browser.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.browser.send("Page.captureScreenshot", params, session=self.session)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def pdf(self, path: Path | str) -> Path:
        """Print with the page's own print CSS (page size, margins, running header); backgrounds kept."""
        data = self.browser.send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True},
                                 session=self.session)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
