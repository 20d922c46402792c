"""Real-browser tests: Playwright driving Debian's Chromium against the live test server.

Screenshots go to test-artifacts/screenshots/ so a person can look at the pages.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_missing

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module. Not session-wide: Playwright's sync API keeps an event loop
    running in this thread while it is open, which would break later tests that use async_to_sync."""
    if not shutil.which(CHROMIUM):
        service_missing(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # While Playwright runs, its event loop runs in this thread; the ORM calls that tests and
    # database teardown make here are plain sync calls, so tell Django they are safe.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def asgi_page(browser, asgi_live_server) -> Iterator[object]:
    """A page on the project served by uvicorn (ASGI), for pages that stream (see tests/asgi_server.py)."""
    context = browser.new_context(base_url=asgi_live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def asgi_logged_in_page(asgi_page, operator):
    return _log_in(asgi_page)


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user("operator", password="operator-password", is_staff=True)


@pytest.fixture
def logged_in_page(page, operator):
    return _log_in(page)


def _log_in(page):
    page.goto("/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)
