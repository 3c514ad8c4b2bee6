"""Headless Chromium driven over the Chrome DevTools protocol, with nothing downloaded.

Debian's `chromium` package is the browser; the DevTools protocol is JSON over a websocket
(`websockets`, already installed with uvicorn), so neither chromedriver nor playwright's
browser download is needed. Only what the dashboard tests use is here: open a page, time
the first meaningful content, wait for Streamlit to settle, take a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1440,1100",
    "--remote-debugging-port=0",
)

# Records, in the page's own clock (ms since navigation start), when an element matching
# `selector` first contains `text`. Installed before any of the page's scripts run.
_WATCH = """
(() => {
  const [selector, text] = %s;
  window.__ttc = null;
  const check = () => {
    if (window.__ttc !== null || !document.body) return;
    for (const element of document.querySelectorAll(selector)) {
      if (element.textContent.includes(text)) { window.__ttc = performance.now(); return; }
    }
  };
  const observer = new MutationObserver(check);
  document.addEventListener("DOMContentLoaded", () => {
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    check();
  });
})();
"""

# Streamlit shows a status widget while a script runs; charts draw a moment later.
_SETTLED = """
(() => {
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  const skeleton = document.querySelector('[data-testid="stSkeleton"]');
  return window.__ttc !== null && !running && !skeleton;
})()
"""


class BrowserError(RuntimeError):
    """The browser did not start or did not answer; the message says what it was doing."""


class Tab:
    """One page target, with its own DevTools websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") != call_id:
                continue  # an event we did not subscribe to, or an older answer
            if "error" in message:
                raise BrowserError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait(self, expression: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''") or ""
                raise BrowserError(f"timed out waiting for {what}; the page shows: {text[:600]}")
            time.sleep(0.02)

    def open(self, url: str, selector: str, text: str, timeout: float = 15) -> float:
        """Load `url`; return the milliseconds from navigation start until an element that
        matches `selector` shows `text` (the page's first meaningful content)."""
        watch = _WATCH % json.dumps([selector, text])
        script = self.send("Page.addScriptToEvaluateOnNewDocument", source=watch)
        try:
            self.send("Page.navigate", url=url)
            self.wait("window.__ttc !== null && window.__ttc !== undefined", timeout, repr(text))
        finally:
            self.send("Page.removeScriptToEvaluateOnNewDocument", identifier=script["identifier"])
        return float(self.evaluate("window.__ttc"))

    def settle(self, timeout: float = 10, quiet_s: float = 0.4) -> None:
        """Wait until the script has finished and nothing moved for `quiet_s`."""
        self.wait(_SETTLED, timeout, "the page to finish running")
        time.sleep(quiet_s)

    def screenshot(self, path: Path) -> None:
        height = self.evaluate(
            "Math.max(document.body.scrollHeight, ...Array.from("
            "document.querySelectorAll('[data-testid=\"stMain\"], section.main'),"
            " e => e.scrollHeight))"
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=int(min(max(height or 1100, 1100), 6000)),
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.3)  # let charts re-layout to the taller viewport
        shot = self.send("Page.captureScreenshot", format="png")
        self.send("Emulation.clearDeviceMetricsOverride")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


@dataclass
class Browser:
    port: int
    process: subprocess.Popen[bytes]

    @contextmanager
    def tab(self) -> Iterator[Tab]:
        response = httpx.put(f"http://127.0.0.1:{self.port}/json/new?about:blank", timeout=10)
        target = response.json()
        with connect(target["webSocketDebuggerUrl"], max_size=64 * 2**20) as socket:
            tab = Tab(socket)
            tab.send("Page.enable")
            yield tab


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not marker.exists() or not marker.read_text().strip():
        if process.poll() is not None:
            raise BrowserError(f"chromium exited at start with status {process.returncode}")
        if time.monotonic() > deadline:
            raise BrowserError("chromium did not open its DevTools port")
        time.sleep(0.05)
    return int(marker.read_text().splitlines()[0])


@contextmanager
def chromium(profile: Path, binary: Path = CHROMIUM) -> Iterator[Browser]:
    """Headless Chromium on a fresh profile directory, stopped (and waited for) on exit."""
    if not binary.exists() and shutil.which(binary.name) is None:
        raise BrowserError(f"{binary} is not installed")
    profile.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(binary), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield Browser(_devtools_port(profile, process, timeout=20), process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
