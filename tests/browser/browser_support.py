"""Helpers for the browser tests. tests/browser is a package (so its conftest does not shadow
tests/conftest.py as the module `conftest`); its modules import these relatively."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_RESULTS = ARTIFACTS / "axe"
AXE_JS = ROOT / "tests" / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("OBMI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 20_000
READY = "#triptych[data-ready=true]"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """uvicorn in a background thread; `start` returns once /healthz answers."""

    def __init__(self, app, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="obmi-live-server", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("the uvicorn thread stopped before the server answered /healthz")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last_error = exc
            time.sleep(0.1)
        raise RuntimeError(f"the server at {self.url} did not answer /healthz within {timeout}s: {last_error!r}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


class Shots:
    """Full-page screenshots of the pages a test visits, saved under artifacts/screenshots/."""

    def __init__(self, page, test_name: str):
        self.page, self.test_name, self.count = page, slug(test_name), 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, label: str = "") -> Path:
        self.count += 1
        where = slug(self.page.url.split("://", 1)[-1].split("/", 1)[-1]) or "home"
        path = SCREENSHOTS / f"{self.test_name}-{self.count:02d}-{slug(label) or where}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def watch(page, test_name: str):
    """Collects the page's uncaught JavaScript errors and gives it a screenshot helper."""
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.shots = Shots(page, test_name)
    return page


def wait_ready(page, selector: str = READY) -> None:
    page.wait_for_selector(selector, state="attached", timeout=TIMEOUT_MS)


def sign_in(page, base_url: str, name: str, password: str, next_path: str = "") -> None:
    """Sign in through the login form, as a person does; returns once the target page is shown."""
    page.goto(f"{base_url}/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Gebruikersnaam").fill(name)
    page.get_by_label("Wachtwoord").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_selector("header nav.account .who", timeout=TIMEOUT_MS)
