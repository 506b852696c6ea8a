"""Open an HTML report in headless Chromium: screenshot it, fail on console errors.

Chromium runs headless with a fresh profile and its DevTools port on the
loopback interface; a tiny WebSocket client (standard library only) drives
the page over the DevTools protocol: enable the Runtime, Log and Page
domains, navigate to the file, wait for the load event and a short quiet
period, collect every console error, uncaught exception and error log entry
(a resource that failed to load included), then capture the full page as a
PNG, and print the page's outline as laid out (each heading, finding report
and swimlane with its distance from the top, ``outline: <top>px <tag>
<text>``).  Exit status: 0 when the page loaded without errors, 1 when it had
errors (each printed on one line), 2 when Chromium is missing or the page
could not be loaded.

Usage: python stress/html_screenshot.py [REPORT.html | RUN_DIR]
           [--out reports/report-screenshot.png] [--chromium PATH]

Without a page, a demo run (a campaign of dup_mmap with the
resume-without-pause mutant, so that there is a finding with a swimlane,
``rcu-harness stress`` as a library call) is built in a temporary
directory and its report is used.  Chromium is
Debian's ``chromium`` package (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--window-size=1280,900")
MAX_HEIGHT = 16000
TIMEOUT = 60.0


class PageError(Exception):
    """The page could not be loaded or the browser misbehaved."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary to use, or None."""
    if explicit:
        return explicit if shutil.which(explicit) or Path(explicit).exists() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """A minimal RFC 6455 client: text frames out (masked), frames in."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(b"rcu-harness-cdp!").decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise PageError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise PageError(f"WebSocket handshake refused: {head[:80]!r}")

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise PageError("DevTools connection closed")
            buf += chunk
        return bytes(buf)

    def send(self, text: str) -> None:
        payload = text.encode()
        mask = b"\x01\x02\x03\x04"
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self) -> str:
        parts: list[bytes] = []
        while True:
            b0, b1 = self._recv_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._recv_exact(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._recv_exact(8))
            mask = self._recv_exact(4) if b1 & 0x80 else b""
            data = self._recv_exact(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x8:
                raise PageError("DevTools closed the WebSocket")
            if opcode == 0x9:  # ping
                self.sock.sendall(struct.pack("!BB", 0x8A, 0x80) + b"\0\0\0\0")
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        self.sock.close()


class Page:
    """One DevTools page session: commands and the events that arrive."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: object) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise PageError(f"{method}: {msg['error'].get('message')}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > deadline:
                raise PageError(f"timed out waiting for {method}")
            self.ws.sock.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))

    def drain(self, quiet: float) -> None:
        """Collect events until none arrives for @quiet seconds."""
        self.ws.sock.settimeout(quiet)
        try:
            while True:
                msg = json.loads(self.ws.recv())
                if "method" in msg:
                    self.events.append(msg)
        except TimeoutError:
            pass
        finally:
            self.ws.sock.settimeout(TIMEOUT)


def console_errors(events: list[dict[str, Any]]) -> list[str]:
    """One line per console error, exception or error log entry in @events."""
    out = []
    for e in events:
        method, p = e["method"], e.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            out.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error",
                                                                        "assert"):
            args = " ".join(str(a.get("value", a.get("description", "")))
                            for a in p.get("args", []))
            out.append(f"console.{p['type']}: {args}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            out.append(f"log ({entry.get('source')}): {entry.get('text')} "
                       f"{entry.get('url', '')}".rstrip())
    return [" ".join(line.split()) for line in out]


def _devtools_port(proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + TIMEOUT
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                raise PageError(f"chromium exited with status {proc.returncode}")
            continue
        if "DevTools listening on ws://" in line:
            return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    raise PageError("chromium did not open its DevTools port")


def _page_ws(port: int) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                    timeout=10) as resp:
            targets = json.load(resp)
        for t in targets:
            if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                return str(t["webSocketDebuggerUrl"])
        time.sleep(0.2)
    raise PageError("chromium has no page target")


OUTLINE_JS = """JSON.stringify(Array.from(document.querySelectorAll('h2, h3, pre,'
  + ' div.lanes')).map(e => [e.tagName.toLowerCase(),
  e.textContent.trim().split('\\n')[0].slice(0, 60),
  Math.round(e.getBoundingClientRect().top + window.scrollY)]))"""
"""The page's outline as laid out: (tag, first line, top in CSS pixels)."""


def outline_lines(outline: list[list[object]]) -> list[str]:
    """@outline as lines ``outline: <top>px <tag> <text>``."""
    return [f"outline: {top}px {tag} {text}" for tag, text, top in outline]


def check_page(html: Path, out: Path, chromium: str
               ) -> tuple[list[str], list[list[object]]]:
    """Load @html, save a full-page screenshot to @out; the console errors and
    the page's outline (headings, reports and swimlanes with their top)."""
    # Chromium's helper processes (crashpad, zygote) may still write to the
    # profile after the browser exits: they share its session and are killed
    # with it, and a profile that cannot be removed is not an error.
    with tempfile.TemporaryDirectory(prefix="rcu-chromium-",
                                     ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}",
                                 "about:blank"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            ws = WebSocket(_page_ws(_devtools_port(proc)))
            page = Page(ws)
            for domain in ("Runtime", "Log", "Page"):
                page.call(f"{domain}.enable")
            page.call("Page.navigate", url=html.resolve().as_uri())
            page.wait_for("Page.loadEventFired", TIMEOUT)
            page.drain(1.0)
            found = page.call("Runtime.evaluate", expression=OUTLINE_JS,
                              returnByValue=True)
            outline = json.loads(found.get("result", {}).get("value", "[]"))
            size = page.call("Page.getLayoutMetrics")["cssContentSize"]
            height = min(MAX_HEIGHT, int(size["height"]) + 1)
            shot = page.call("Page.captureScreenshot", format="png",
                             captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": 1280, "height": height,
                                   "scale": 1})
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
            page.drain(0.3)
            ws.close()
            return console_errors(page.events), outline
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop Chromium, then every helper process left in its session."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def demo_page(tmp: Path) -> Path:
    """Build the demo run and its report; the report page."""
    from rcu_harness.campaign.coordinator import Interrupt
    from rcu_harness.campaign.jobs import RunSpec
    from rcu_harness.campaign.plan import Budget, resolve
    from rcu_harness.campaign.progress import NoProgress
    from rcu_harness.campaign.session import start_run
    from rcu_harness.report import write_report

    spec = RunSpec("dup_mmap", strategy="random", seed=1, executions=12, time=0,
                   mutant="resume-without-pause", keep_going=True,
                   params={"vmas": "8"})
    result = start_run(resolve(spec), Budget(spec.executions), out=tmp, jobs=1,
                       progress=NoProgress(), interrupt=Interrupt())
    write_report(result.run_dir)
    return result.run_dir / "report.html"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "reports" / "report-screenshot.png")
    parser.add_argument("--chromium")
    args = parser.parse_args()
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("html_screenshot: chromium not found (apt-get install -y chromium)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rcu-report-") as tmp:
        page = args.page or demo_page(Path(tmp))
        if page.is_dir():
            page = page / "report.html"
        if not page.is_file():
            print(f"html_screenshot: {page}: no such page", file=sys.stderr)
            return 2
        try:
            errors, outline = check_page(page, args.out, chromium)
        except (PageError, OSError) as e:
            print(f"html_screenshot: {' '.join(str(e).split())}", file=sys.stderr)
            return 2
    for line in errors:
        print(f"console error: {line}")
    print("\n".join(outline_lines(outline)))
    print(f"{args.out}: screenshot of {page} ({len(errors)} console errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
