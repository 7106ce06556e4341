"""Firefox as a test peer: Debian's `firefox-esr`, driven over its own remote protocol, Marionette.

Playwright's Firefox is a build of its own (not a package), and geckodriver is not packaged, so
the tests speak Marionette directly: a TCP connection to the browser, each message
`LENGTH:JSON`, a command `[0, id, name, params]` answered by `[1, id, error, result]`. The few
WebDriver commands the tests need are here (new session, navigate, run a script, find and click
an element, type into it, screenshot).

The profile is made per browser: a `user.js` with fake media (Firefox's own tone as the
microphone), the microphone allowed or refused without a prompt, sound allowed to start on its
own, and nothing that phones home. `Firefox(...).page()` hands back its tab to drive.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # WebDriver's key for an element reference


def firefox_binary() -> str | None:
    """Debian's Firefox ESR, or None where it is not installed."""
    return shutil.which("firefox-esr") or shutil.which("firefox")


# What every test profile says. Quiet: no updates, telemetry, first-run pages or safe-browsing
# lists (the test LAN has no way out, and a browser waiting on one is slow to start).
QUIET = {
    "app.update.auto": False, "app.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False, "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0, "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False, "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False, "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False, "browser.safebrowsing.downloads.enabled": False,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False, "browser.newtabpage.enabled": False,
    "dom.disable_beforeunload": True,  # a test that closes the browser mid-call gets no prompt
}
# Fake media: Firefox's fake microphone plays a tone of its own (no file can be given, unlike
# Chromium; `media.navigator.audio.fake_frequency` sets it, 1000 Hz otherwise); audio may start
# without a click. A machine with no sound card (a test machine, CI) gives Firefox no audio
# output, and then its Web Audio and the <audio> element never run: Firefox's mock output device
# stands in.
FAKE_MEDIA = {
    "media.navigator.streams.fake": True,
    "media.autoplay.default": 0, "media.autoplay.block-webaudio": False,
    "media.cubeb.force_mock_context": True,
}
# The agent allowed the microphone for the site (the prompt's "Allow", remembered). Firefox then
# puts its addresses in its ICE candidates.
MIC_ALLOWED = {**FAKE_MEDIA, "media.navigator.permission.disabled": False,
               "permissions.default.microphone": 1}
# The microphone given with no prompt and no permission kept for the site: Firefox then hides its
# addresses behind mDNS names (`<uuid>.local`) in its candidates, as it does for a page that has
# no lasting permission.
MIC_UNASKED = {**FAKE_MEDIA, "media.navigator.permission.disabled": True}
# The agent refused the microphone: the prompt is answered "Block" for every site.
MIC_REFUSED = {**FAKE_MEDIA, "media.navigator.permission.disabled": False,
               "permissions.default.microphone": 2, "permissions.default.camera": 2}


class MarionetteError(Exception):
    """The browser answered a command with an error."""


class Marionette:
    """One Marionette connection: `call(name, params)` sends a command and waits for its answer."""

    def __init__(self, sock: socket.socket, timeout: float = 30.0):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.next_id = 0
        hello = self._receive()
        if hello.get("applicationType") != "gecko":
            raise MarionetteError(f"not Marionette: {hello!r}")

    def _receive(self) -> Any:
        while b":" not in self.buf:
            self._read()
        length, _, rest = self.buf.partition(b":")
        size = int(length)
        while len(rest) < size:
            self._read()
            length, _, rest = self.buf.partition(b":")
        self.buf = rest[size:]
        return json.loads(rest[:size])

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise MarionetteError("the browser closed the connection")
        self.buf += chunk

    def call(self, name: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        data = json.dumps([0, self.next_id, name, params or {}]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            kind, msg_id, error, result = self._receive()
            if kind == 1 and msg_id == self.next_id:
                break
        if error:
            raise MarionetteError(f"{name}: {error.get('error')}: {error.get('message')}")
        return result

    def close(self) -> None:
        self.sock.close()


class Page:
    """The browser's one tab, driven like a person would (plus scripts where a test measures)."""

    def __init__(self, marionette: Marionette):
        self.m = marionette

    def goto(self, url: str) -> None:
        self.m.call("WebDriver:Navigate", {"url": url})

    @property
    def url(self) -> str:
        return self.m.call("WebDriver:GetCurrentURL")["value"]

    def run(self, script: str, *args: Any) -> Any:
        """A script's value: `script` is a function body that sees `arguments`."""
        return self.m.call("WebDriver:ExecuteScript", {"script": script, "args": list(args)})["value"]

    def run_async(self, script: str, *args: Any) -> Any:
        """What a script hands to its callback: the callback is the last of `arguments`."""
        return self.m.call("WebDriver:ExecuteAsyncScript", {"script": script, "args": list(args)})["value"]

    def find(self, css: str) -> str:
        return self.m.call("WebDriver:FindElement", {"using": "css selector", "value": css})["value"][ELEMENT]

    def click(self, css: str) -> None:
        self.m.call("WebDriver:ElementClick", {"id": self.find(css)})

    def click_button(self, within: str, label: str) -> None:
        """Click the visible button of `within` whose words are `label` (by the page, as seen)."""
        found = self.m.call("WebDriver:ExecuteScript", {"script": """
            const [within, label] = arguments;
            return [...document.querySelectorAll(within + ' button')]
              .find(b => b.textContent.trim() === label && !b.hidden && b.offsetParent !== null) || null;
        """, "args": [within, label]})["value"]
        if not found:
            raise AssertionError(f"no button {label!r} in {within}: {self.text(within)!r}")
        self.m.call("WebDriver:ElementClick", {"id": found[ELEMENT]})

    def fill(self, css: str, text: str) -> None:
        element = self.find(css)
        self.m.call("WebDriver:ElementClear", {"id": element})
        self.m.call("WebDriver:ElementSendKeys", {"id": element, "text": text})

    def text(self, css: str) -> str:
        return self.run("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)

    def attribute(self, css: str, name: str) -> str | None:
        return self.run("const e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1]);",
                        css, name)

    def wait_until(self, what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = check()
            except MarionetteError as err:  # a page between two documents
                last = err
            if last and not isinstance(last, MarionetteError):
                return last
            time.sleep(0.2)
        raise AssertionError(f"{what} not within {timeout}s (last: {last!r}); the page says: "
                             f"{self.text('body')[:2000]!r}")

    def wait_for(self, css: str, timeout: float = 20.0) -> None:
        self.wait_until(css, lambda: self.run("return !!document.querySelector(arguments[0]);", css), timeout)

    def wait_for_text(self, words: str, timeout: float = 20.0) -> None:
        self.wait_until(repr(words), lambda: words in self.text("body"), timeout)

    def screenshot(self, path: str | Path) -> None:
        data = self.m.call("WebDriver:TakeScreenshot", {"full": True})["value"]
        Path(path).write_bytes(base64.b64decode(data))


class Firefox:
    """Headless Firefox with a fresh profile, run by `command` (say, in a test LAN's namespace).

    `connect(port)` opens a TCP connection to the browser's Marionette port where the browser
    runs (a namespace's loopback is its own)."""

    def __init__(self, profile: Path, prefs: dict[str, Any], *,
                 command: Callable[[list[str]], list[str]] = lambda args: args,
                 connect: Callable[[int], socket.socket] = lambda port: socket.create_connection(
                     ("127.0.0.1", port), timeout=2),
                 port: int = 2828, binary: str | None = None):
        self.profile = Path(profile)
        self.port = port
        self.connect = connect
        self.profile.mkdir(parents=True, exist_ok=True)
        every = {**QUIET, **prefs, "marionette.port": port}
        (self.profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in every.items()))
        self.log_path = self.profile.parent / f"{self.profile.name}.log"
        log = open(self.log_path, "wb")
        env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1",
               "HOME": str(self.profile)}
        self.proc = subprocess.Popen(
            command([binary or firefox_binary() or "firefox-esr", "--headless", "--marionette",
                     "--no-remote", "--profile", str(self.profile), "about:blank"]),
            stdout=log, stderr=subprocess.STDOUT, env=env)
        self.marionette: Marionette | None = None

    def page(self, timeout: float = 40.0) -> Page:
        """A WebDriver session in the browser (self-signed certificates accepted) and its tab."""
        deadline = time.monotonic() + timeout
        while self.marionette is None:
            try:
                self.marionette = Marionette(self.connect(self.port))
            except (OSError, MarionetteError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"Firefox gave no Marionette port: {self.log()}") from None
                time.sleep(0.3)
        # Marionette takes the capabilities as they are (geckodriver merges W3C's alwaysMatch first).
        self.marionette.call("WebDriver:NewSession", {
            "acceptInsecureCerts": True, "timeouts": {"script": 20000, "pageLoad": 30000, "implicit": 0}})
        return Page(self.marionette)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def close(self) -> None:
        if self.marionette is not None:
            try:
                self.marionette.call("Marionette:Quit", {"flags": ["eForceQuit"]})
            except (OSError, MarionetteError):
                pass
            self.marionette.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
