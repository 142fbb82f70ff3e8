"""Open a local HTML file in headless Chromium and report what happened, with the standard
library only (the DevTools protocol over --remote-debugging-pipe).

Used by the report tests: console errors, uncaught exceptions, JavaScript dialogs (an
`alert` that ran), every network request the page made, values read from the DOM, and a
full-page screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """Path of a Chromium-family browser, or None."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    """What loading one page produced."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


class _Pipe:
    """The browser end of --remote-debugging-pipe: fd 3 reads commands, fd 4 writes replies."""

    def __init__(self, browser: str, user_data_dir: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def plumb() -> None:  # runs in the child before exec
            # Copy both ends above 4 first, so that neither dup2 clobbers the other.
            high_r = os.dup(to_browser_r)
            high_w = os.dup(from_browser_w)
            os.dup2(high_r, 3)  # dup2 makes inheritable copies
            os.dup2(high_w, 4)

        # close_fds=False: fds 3 and 4 are set up by plumb(), which runs before the close
        # step; Python's own descriptors are non-inheritable (PEP 446) and stay behind.
        self.process = subprocess.Popen(
            [browser, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=plumb, close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self._next_id += 1
        wanted = self._next_id
        message: dict[str, Any] = {"id": wanted, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "id" not in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        decoded = json.loads(message)
        if decoded.get("method") == "Page.javascriptDialogOpening":
            # A dialog blocks the page until answered: dismiss it, record it (via events).
            self._next_id += 1
            answer = {"id": self._next_id, "method": "Page.handleJavaScriptDialog",
                      "params": {"accept": True}, "sessionId": decoded.get("sessionId")}
            os.write(self._to_browser, json.dumps(answer).encode() + b"\0")
        return decoded

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may already be gone
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def load_page(html_file: Path, expressions: dict[str, str], width: int = 1100,
              browser: str | None = None, scripts: Sequence[str] = ()) -> PageReport:
    """Load `html_file`, evaluate each JavaScript expression, take a full-page screenshot.

    `scripts` (JavaScript source, such as a test library) run in the page after it loads
    and before the expressions; the protocol evaluates them past the page's own
    Content-Security-Policy, which forbids scripts. An expression may return a promise;
    its settled value is reported (None when it throws).
    """
    browser = browser or find_chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium found")
    with tempfile.TemporaryDirectory(prefix="cdp-profile-") as profile:
        pipe = _Pipe(browser, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget",
                                {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": 1200, "deviceScaleFactor": 1, "mobile": False},
                      session=session)
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": html_file.resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired")
            report = PageReport()
            for source in scripts:
                result = pipe.send("Runtime.evaluate", {"expression": source}, session=session)
                if "exceptionDetails" in result:
                    raise RuntimeError(f"injected script failed: {result['exceptionDetails']}")
            for name, expression in expressions.items():
                result = pipe.send("Runtime.evaluate",
                                   {"expression": expression, "returnByValue": True,
                                    "awaitPromise": True},
                                   session=session, timeout=120.0)
                report.values[name] = result.get("result", {}).get("value")
            metrics = pipe.send("Page.getLayoutMetrics", session=session)
            height = int(metrics["cssContentSize"]["height"])
            shot = pipe.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 12000),
                         "scale": 1},
            }, session=session)
            report.screenshot = base64.b64decode(shot["data"])
            _collect(pipe.events, report)
            return report
        finally:
            pipe.close()


def _collect(events: list[dict[str, Any]], report: PageReport) -> None:
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            report.console_errors.append(json.dumps(params.get("args")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            report.console_errors.append(params["entry"].get("text", ""))
        elif method == "Runtime.exceptionThrown":
            report.exceptions.append(json.dumps(params.get("exceptionDetails")))
        elif method == "Page.javascriptDialogOpening":
            report.dialogs.append(params.get("message", ""))
        elif method == "Network.requestWillBeSent":
            report.requests.append(params.get("request", {}).get("url", ""))
