from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_logs_in_and_out(page, operator) -> None:
    page.goto("/")
    assert "/login/" in page.url
    screenshot(page, "login")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Please enter a correct username")
    page.fill("#id_password", "operator-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator(".topbar").inner_text().count("operator") == 1
    screenshot(page, "home")
    page.click("text=Log out")
    page.wait_for_url("**/login/")
