"""Fixtures for the browser tests: the real hub binary and headless Chromium.

The hub is started once per session from `.build/debug/dugnad` (override with
DUGNAD_BIN) with a throwaway data directory and JWT secret; pages are loaded
from the hub itself. Screenshots and the hub's log go to DUGNAD_TEST_OUTPUT
(default web-client/tests/output/).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import pathlib
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPO = pathlib.Path(__file__).resolve().parents[2]
WEB_ROOT = REPO / "web-client"
OUTPUT = pathlib.Path(os.environ.get("DUGNAD_TEST_OUTPUT") or (WEB_ROOT / "tests" / "output"))
WAIT_S = float(os.environ.get("DUGNAD_TEST_WAIT", "10"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A running `dugnad serve` and the means to mint tokens for it."""

    def __init__(self, binary: pathlib.Path, port: int, secret: str, proc: subprocess.Popen, log_path: pathlib.Path, data_dir: pathlib.Path, log_file=None, certificate: pathlib.Path | None = None):
        self.binary = binary
        self.log_file = log_file
        self.data_dir = data_dir
        self.port = port
        self.secret = secret
        self.proc = proc
        self.log_path = log_path
        # With a certificate the hub serves HTTPS and wss:// only; Python trusts that
        # certificate alone (the browser is told to accept it).
        self.ssl_context = ssl.create_default_context(cafile=str(certificate)) if certificate else None
        self.base_url = f"{'https' if certificate else 'http'}://127.0.0.1:{port}"
        self.ws_url = f"{'wss' if certificate else 'ws'}://127.0.0.1:{port}/ws"
        self._ids = itertools.count(1)
        self.run_id = secrets.token_hex(3)

    def user_id(self, prefix: str) -> str:
        """A user id unique to this run, so tests never share a user."""
        return f"{prefix}-{self.run_id}-{next(self._ids)}"

    def token(
        self,
        sub: str,
        name: str,
        role: str | None = None,
        ttl: str | None = None,
        roles: list[str] | None = None,
        channels: list[str] | None = None,
    ) -> str:
        cmd = [str(self.binary), "token", "--sub", sub, "--name", name, f"--jwt-secret={self.secret}"]
        for r in ([role] if role else []) + list(roles or []):
            cmd += ["--role", r]
        for channel in channels or []:
            cmd += ["--channel", channel]
        if ttl:
            cmd += ["--ttl", ttl]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"`dugnad token` failed ({out.returncode}): {out.stderr.strip()}")
        lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if not lines:
            raise RuntimeError("`dugnad token` printed nothing")
        return lines[-1]

    def create_channel(self, name: str, kind: str, title: str):
        """Create a channel through the HTTP API as an admin (announce and
        private channels are not created by a plain `join`)."""
        admin = self.token(self.user_id("admin"), "Hub Admin", "admin")
        status, body = self.http("POST", "/api/v1/channels", admin, {"name": name, "kind": kind, "title": title})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/channels answered {status}: {body}")

    def sign_in_url(self, token: str) -> str:
        return f"{self.base_url}/#token={token}"

    def http(self, method: str, path: str, token: str | None = None, body: object | None = None):
        """Call the HTTP API; returns (status, parsed JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ssl_context) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def output_dir() -> pathlib.Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


def hub_binary() -> pathlib.Path:
    return pathlib.Path(os.environ.get("DUGNAD_BIN") or (REPO / ".build" / "debug" / "dugnad"))


class HubStartError(RuntimeError):
    pass


def start_hub(
    binary: pathlib.Path, data_dir: pathlib.Path, log_path: pathlib.Path,
    tls: tuple[pathlib.Path, pathlib.Path] | None = None, extra_args: list[str] | None = None,
) -> Hub:
    """Start `dugnad serve` on a free port with a fresh secret and wait for /healthz.
    The browser tests (the `hub` fixture) and screenshots.py start it this way; `tls`
    (certificate, key) serves HTTPS and wss:// instead; `extra_args` go to `serve` as they are."""
    if not binary.exists():
        raise HubStartError(f"hub binary not found at {binary}: build it first (swift build) or set DUGNAD_BIN")
    port = _free_port()
    secret = secrets.token_urlsafe(48)
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            str(binary), "serve",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--data-dir", str(data_dir),
            f"--jwt-secret={secret}",
            "--web-root", str(WEB_ROOT / "public"),
        ] + (["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])] if tls else []) + (extra_args or []),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    the_hub = Hub(binary, port, secret, proc, log_path, data_dir, log, certificate=tls[0] if tls else None)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.close()
            raise HubStartError(f"`dugnad serve` exited with {proc.returncode}:\n{the_hub.log_tail()}")
        try:
            with urllib.request.urlopen(f"{the_hub.base_url}/healthz", timeout=2, context=the_hub.ssl_context) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            log.close()
            raise HubStartError(f"`dugnad serve` did not answer /healthz within 60 s:\n{the_hub.log_tail()}")
        time.sleep(0.2)
    return the_hub


def stop_hub(the_hub: Hub):
    the_hub.proc.terminate()
    try:
        the_hub.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        the_hub.proc.kill()
        the_hub.proc.wait()
    the_hub.log_file.close()


@pytest.fixture(scope="session")
def hub(tmp_path_factory, output_dir):
    try:
        # No default channels: these flows start from a new user's empty sidebar and join
        # by name (test_default_channels.py has a hub with `general`, as `serve` defaults to).
        the_hub = start_hub(
            hub_binary(), tmp_path_factory.mktemp("hub-data"), output_dir / "hub.log", extra_args=["--no-default-channel"])
    except HubStartError as err:
        pytest.fail(str(err))
    yield the_hub
    stop_hub(the_hub)


def _chromium_options(width: int, height: int, accept_any_certificate: bool = False, lang: str = "en-GB") -> webdriver.ChromeOptions:
    opts = webdriver.ChromeOptions()
    if accept_any_certificate:
        # For a hub serving a self-signed test certificate (the TLS tests only).
        opts.add_argument("--ignore-certificate-errors")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--window-size={width},{height}",
        f"--lang={lang}",
    ):
        opts.add_argument(arg)
    binary = os.environ.get("CHROME_BIN") or shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if binary:
        opts.binary_location = binary
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Headless Chromium takes navigator.languages from this preference, not from --lang.
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    if width < 500:
        # Desktop Chromium will not make a window narrower than 500 px: emulate a phone.
        opts.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": True}},
        )
    return opts


class Page:
    """One browser session of one user, with the steps the tests repeat."""

    def __init__(self, driver: webdriver.Chrome, hub: Hub, output: pathlib.Path, label: str):
        self.d = driver
        self.hub = hub
        self.output = output
        self.label = label
        self.user = None

    # -- waiting --------------------------------------------------------------

    def wait(self, condition, message: str, timeout: float = WAIT_S):
        try:
            # The UI re-renders lists as events arrive, so an element found a moment ago
            # may be gone when it is read: that is "not yet", not a failure.
            return WebDriverWait(
                self.d, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
            ).until(lambda _: condition(), message)
        except TimeoutException:
            self.screenshot(f"FAILED-{self.label}")
            raise

    def js(self, script: str, *args):
        return self.d.execute_script(script, *args)

    def state(self) -> dict:
        return self.js("return window.__dugnad && window.__dugnad.state()")

    # -- sign-in and channels -------------------------------------------------

    def sign_in(self, name: str, role: str | None = None, sub: str | None = None):
        sub = sub or self.hub.user_id(name.split()[0].lower())
        token = self.hub.token(sub, name, role)
        self.user = {"id": sub, "name": name, "token": token}
        self.d.get(self.hub.sign_in_url(token))
        self.wait_connected()
        return self

    def connection(self) -> str:
        return self.js("return document.getElementById('conn').dataset.state")

    def wait_connected(self, timeout: float = WAIT_S):
        self.wait(lambda: self.connection() == "ready", f"{self.label}: never connected", timeout)

    def open_nav_if_collapsed(self):
        toggle = self.d.find_element(By.ID, "nav-toggle")
        if toggle.is_displayed() and toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
            self.wait(lambda: self.d.find_element(By.ID, "sidebar").is_displayed(), f"{self.label}: sidebar did not open")
            # It slides in: its fields cannot be typed into until it is all on screen.
            self.wait(
                lambda: self.js("return document.getElementById('sidebar').getBoundingClientRect().left") >= 0,
                f"{self.label}: sidebar still sliding in",
            )

    def join(self, channel: str):
        self.open_nav_if_collapsed()
        field = self.d.find_element(By.ID, "join-name")
        field.clear()
        field.send_keys(channel, Keys.ENTER)
        self.wait(lambda: self.active_channel() == channel, f"{self.label}: did not open #{channel}")
        self.wait(lambda: self.state()["channels"].get(channel, {}).get("joined"), f"{self.label}: #{channel} not joined")

    def open_channel(self, channel: str):
        self.open_nav_if_collapsed()
        self.d.find_element(By.CSS_SELECTOR, f'#channel-list [data-channel="{channel}"]').click()
        self.wait(lambda: self.active_channel() == channel, f"{self.label}: did not switch to #{channel}")

    def active_channel(self):
        view = (self.state() or {}).get("view") or {}
        return view.get("name") if view.get("kind") == "channel" else None

    # -- messages -------------------------------------------------------------

    def composer(self):
        return self.d.find_element(By.ID, "composer-input")

    def send(self, text: str):
        box = self.composer()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def bodies(self) -> list[str]:
        """Texts of the confirmed messages in the open channel, in page order."""
        return self.js(
            "return [...document.querySelectorAll('#message-list .msg:not(.msg--pending) .msg-body')]"
            ".map(e => e.textContent)"
        )

    def pending_bodies(self) -> list[str]:
        return self.js("return [...document.querySelectorAll('#message-list .msg--pending .msg-body')].map(e => e.textContent)")

    def wait_for_body(self, text: str, timeout: float = WAIT_S):
        self.wait(lambda: text in self.bodies(), f"{self.label}: message {text!r} never appeared", timeout)

    def message_element(self, text: str):
        for el in self.d.find_elements(By.CSS_SELECTOR, "#message-list .msg:not(.msg--pending)"):
            if el.find_element(By.CSS_SELECTOR, ".msg-body").text == text:
                return el
        raise AssertionError(f"{self.label}: no message {text!r}")

    def presence_ids(self) -> list[str]:
        return self.js("return [...document.querySelectorAll('#presence-list .presence-item')].map(e => e.dataset.userId)")

    def presence_names(self) -> list[str]:
        return self.js("return [...document.querySelectorAll('#presence-list .presence-name')].map(e => e.textContent)")

    def unread_badge(self, channel: str) -> str:
        return self.js(
            "const b = document.querySelector(`#channel-list [data-channel='${arguments[0]}'] .badge`);"
            "return b && !b.hidden ? b.textContent : '';",
            channel,
        )

    # -- accessibility --------------------------------------------------------

    def axe_violations(self) -> list[str]:
        """axe-core's WCAG 2 A/AA and best-practice findings on the page as it is now."""
        axe_module = pytest.importorskip("axe_selenium_python", reason="install axe-selenium-python (tests/requirements.txt) for the accessibility audit")
        axe_module.Axe(self.d).inject()
        self.d.set_script_timeout(60)
        results = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}})"
            ".then(r => done({violations: r.violations}), e => done({error: String(e)}));"
        )
        assert "error" not in results, results.get("error")
        found = [
            f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:4])
            for v in results["violations"]
        ]
        # axe counts landmarks in the markup; a screen reader meets only those shown.
        shown_mains = self.js(
            "return [...document.querySelectorAll('main, [role=main]')].filter(e => e.getClientRects().length).length"
        )
        if shown_mains != 1:
            found.append(f"main landmarks shown: {shown_mains}, not one")
        return found

    # -- diagnostics ----------------------------------------------------------

    def screenshot(self, name: str):
        path = self.output / f"{name}.png"
        self.d.save_screenshot(str(path))
        return path

    def js_errors(self) -> list[str]:
        errors = []
        for entry in self.d.get_log("browser"):
            if entry.get("level") != "SEVERE":
                continue
            message = entry.get("message", "")
            # A dropped socket may log a connection error; that is the scenario, not a bug.
            if "WebSocket" in message:
                continue
            errors.append(message)
        return errors


def new_driver(width: int = 1280, height: int = 860, accept_any_certificate: bool = False, lang: str = "en-GB") -> webdriver.Chrome:
    """A fresh headless Chromium (CHROME_BIN, CHROMEDRIVER override where they are) whose
    browser language is `lang`."""
    driver_path = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    service = Service(driver_path) if driver_path else Service()
    driver = webdriver.Chrome(options=_chromium_options(width, height, accept_any_certificate, lang), service=service)
    driver.set_script_timeout(10)
    return driver


def open_pages(hub, output_dir, height: int = 860):
    """The body of a browser fixture: yields a factory `make(label, width, height, lang)` of
    headless Chromium pages against `hub`, then keeps each page's console errors and quits it."""
    pages: list[Page] = []

    def make(label: str, width: int = 1280, height: int = height, lang: str = "en-GB") -> Page:
        page = Page(new_driver(width, height, lang=lang), hub, output_dir, label)
        pages.append(page)
        return page

    yield make
    for page in pages:
        try:
            errors = page.js_errors()
            if errors:
                (output_dir / f"console-{page.label}.log").write_text("\n".join(errors))
        finally:
            page.d.quit()


@pytest.fixture
def browser(hub, output_dir):
    """Factory: `browser("ola")` opens a fresh headless Chromium for one user."""
    yield from open_pages(hub, output_dir)


# -- a bare protocol client (probes and setup; the UI is what is tested) -------


class WSClient:
    """Minimal Dugnad protocol client over `websockets`, for setup and probes."""

    def __init__(self, hub: Hub, token: str):
        self.hub = hub
        self.token = token
        self.ws = None
        self.welcome = None
        self._ref = itertools.count(1)
        self.events: list[dict] = []

    async def __aenter__(self):
        from websockets.asyncio.client import connect

        self.ws = await connect(self.hub.ws_url, subprotocols=["dugnad.v1"], open_timeout=10)
        await self.ws.send(json.dumps({"type": "auth", "token": self.token}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if frame.get("type") == "welcome":
                self.welcome = frame
                return self
            self.events.append(frame)

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def request(self, type_: str, **fields) -> dict:
        ref = next(self._ref)
        await self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if frame.get("type") == "reply" and frame.get("ref") == ref:
                return frame
            self.events.append(frame)


@pytest.fixture
def ws_client(hub):
    """`async with ws_client(token) as c: await c.request(...)`"""

    def make(token: str) -> WSClient:
        return WSClient(hub, token)

    return make
