"""Browser tests: the demo database served by uvicorn on a free loopback port, driven by
Playwright through Debian's Chromium (OBMI_CHROMIUM overrides the path; Playwright's own browser
downloads are never used). A Chromium that cannot be launched is a failure, never a skip.

Every page a test visits is screenshotted to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import httpx
import pytest

from obmi.demo import build_demo
from obmi.settings import load_settings
from obmi.web.app import create_app

from .browser_support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, LiveServer, free_port, watch


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    # Mail (password-reset links) goes to this run's own outbox, never to the working directory.
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(folder / "outbox")})
    ctx = build_demo(settings, folder / "demo.db", echo=lambda _: None)
    server = LiveServer(create_app(ctx.settings, ctx.db), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        ctx.db.dispose()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def api(base_url):
    """An HTTP client on the same server, for the figures a page must show."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            problem = None
        except Exception as exc:  # noqa: BLE001 — any launch failure must fail the tests loudly
            problem = str(exc)
        if problem is not None:
            pytest.fail(f"Chromium could not be launched from {CHROMIUM!r} (apt-get install chromium, or set "
                        f"OBMI_CHROMIUM to a Chromium binary): {problem}", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture
def viewport():
    return {"width": 1400, "height": 1000}


@pytest.fixture
def context(browser, viewport):
    ctx = browser.new_context(viewport=viewport, accept_downloads=True, locale="nl-BE")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request):
    page = watch(context.new_page(), request.node.name)
    yield page
    try:
        if page.url not in ("", "about:blank"):
            page.shots.take("end")
    except Exception:  # noqa: BLE001 — a failed last screenshot must not hide the test's own result
        pass
    assert not page.js_errors, f"uncaught JavaScript errors on the page: {page.js_errors}"
