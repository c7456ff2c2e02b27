"""A minimal Chrome DevTools Protocol client for the report's browser test: headless Chromium, one page.

    with Browser.start() as page:          # None-safe: Browser.find() says why no browser can run
        page.open("file:///.../report.html")
        page.evaluate("document.title")
        page.click(x, y)                   # real mouse events (move, press, release) at CSS pixels
        page.screenshot("shot.png")

Needs the system `chromium` (Debian package; `.ci/run` installs it) and `websocket-client`.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> tuple[str | None, str]:
    """(path of a Chromium binary or None, why none can be used)."""
    try:
        import websocket  # noqa: F401
    except ImportError:
        return None, "websocket-client is not installed (pip install 'flowq[test]')"
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path, ""
    return None, "no Chromium on PATH (apt-get install chromium; .ci/run installs it)"


class Page:
    """One page target of a running browser, driven over its DevTools websocket."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        """Send one CDP command and return its result (events received meanwhile are dropped)."""
        message_id = next(self.ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0):
        """Poll `expression` until it is truthy; returns its value."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{expression!r} stayed false for {timeout} s")

    def open(self, url: str, width: int = 1400, height: int = 1800) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def click(self, x: float, y: float) -> None:
        """A left click at (x, y) CSS pixels of the viewport: mouse moved there, pressed, released."""
        for dx in (-2, 0):  # two moves: a hover handler sees the pointer arrive
            self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x + dx, y=y, buttons=0)
            time.sleep(0.15)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", buttons=1, clickCount=1)
        time.sleep(0.05)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", buttons=0,
                  clickCount=1)

    def screenshot(self, path, clip: dict | None = None, scale: float = 1.0) -> Path:
        """PNG of the viewport, or of `clip` ({x, y, width, height} in CSS pixels of the page) scaled by `scale`."""
        params = {"format": "png"}
        if clip is not None:
            params["clip"] = dict(clip, scale=scale)
        data = self.call("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path


class Browser:
    """Headless Chromium with remote debugging on a free local port, in a throw-away profile."""

    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="flowq-chromium-")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             "--allow-file-access-from-files", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > end or self.process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start its DevTools server")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def page(self) -> Page:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=30) as reply:
            targets = [t for t in json.loads(reply.read()) if t.get("type") == "page"]
        return Page(targets[0]["webSocketDebuggerUrl"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


