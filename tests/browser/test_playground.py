"""The playground in a real browser, served by uvicorn (ASGI) so the columns really stream."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from llm.models import CallStatus, LLMCall, ProviderConfig
from tests.asgi_server import free_port
from tests.browser.conftest import screenshot
from tests.factories import make_provider_config
from tests.llm.vendor_servers import FakeOpenAIServer, Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def configs():
    """Two free mock configs that stream at a pace a test can watch."""
    ProviderConfig.objects.filter(name="mock").delete()  # the migrations' mock, when the database still has it
    return [
        make_provider_config(
            name="mock", options={"stream_delay_seconds": 0.02}, input_price_per_million=0, output_price_per_million=0
        ),
        make_provider_config(name="mock-large", model="mock-model-large", options={"stream_delay_seconds": 0.03}),
    ]


def _run(page, prompt: str, *configs: str) -> None:
    page.goto("/playground/")
    for checkbox in page.locator("input[name=configs]").all():
        checkbox.set_checked(checkbox.get_attribute("value") in configs)
    page.fill("#id_prompt", prompt)
    page.click("#run-button")


def test_two_configs_stream_side_by_side_and_both_finish(asgi_logged_in_page, configs) -> None:
    page = asgi_logged_in_page
    _run(page, "Write a review of the order totals module", "mock", "mock-large")
    columns = page.locator("article.column")
    expect(columns).to_have_count(2)
    # Both stream at once: each shows part of its output before it is done.
    for column in columns.all():
        expect(column).to_have_attribute("data-state", "streaming")
        expect(column.locator(".output")).not_to_be_empty()
    expect(page.locator("#stop-button")).to_be_enabled()
    screenshot(page, "playground-streaming", full_page=False)
    for column in columns.all():
        expect(column).to_have_attribute("data-state", "done", timeout=15_000)
    expect(page.locator("#run-button")).to_be_enabled()
    assert columns.locator(".column-title").all_inner_texts() == ["mock", "mock-large"]
    assert columns.locator(".column-model").all_inner_texts() == ["mock/mock-model", "mock/mock-model-large"]
    calls = {call.config_name: call for call in LLMCall.objects.all()}
    for column in columns.all():
        call = calls[column.locator(".column-title").inner_text()]
        assert column.locator(".output").inner_text() == call.response
        assert column.locator("[data-stat=tokens]").inner_text() == (
            f"{call.prompt_tokens} in + {call.completion_tokens} out"
        )
        assert column.locator("[data-stat=call]").inner_text() == f"#{call.pk}"
        assert column.locator("[data-stat=latency]").inner_text().endswith(("ms", " s"))
        assert column.locator("[data-stat=ttft]").inner_text().endswith(("ms", " s"))
    assert columns.first.locator("[data-stat=cost]").inner_text() == "$0.00"
    assert columns.last.locator("[data-stat=cost]").inner_text() == "unknown"  # no price for the mock model
    assert {call.agent_id for call in calls.values()} == {"playground"}
    assert len({call.task_id for call in calls.values()}) == 1
    screenshot(page, "playground")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    columns.first.scroll_into_view_if_needed()
    screenshot(page, "phone-playground", full_page=False)


def test_save_an_output_and_find_it_in_the_artifact_list_then_replay_it(asgi_logged_in_page, configs) -> None:
    page = asgi_logged_in_page
    _run(page, "Write a review of the order totals module", "mock")
    column = page.locator("article.column")
    expect(column).to_have_attribute("data-state", "done", timeout=15_000)
    save = column.locator(".save-form")
    expect(save).to_be_visible()
    save.locator("select[name=artifact_type]").select_option("review")
    save.locator("input[name=workflow]").fill("wf-playground-saves")
    save.locator("input[name=task]").fill("compare-reviews")
    save.locator("button[type=submit]").click()
    expect(save.locator(".save-result")).to_contain_text("Saved as art-")
    screenshot(page, "playground-saved", full_page=False)
    artifact_id = save.locator(".save-result a").inner_text()

    page.goto("/artifacts/?workflow=wf-playground-saves")
    row = page.locator("table.artifacts tbody tr", has_text="compare-reviews")
    expect(row).to_have_count(1)
    row.locator("td[data-label=Artifact] a").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}/")
    expect(page.locator(".meta")).to_contain_text("llm_call_id")

    page.click("text=Replay in playground")
    page.wait_for_url("**/playground/?replay=*")
    expect(page.locator("#replay-banner")).to_contain_text(artifact_id)
    assert page.locator("#id_prompt").input_value() == "Write a review of the order totals module"
    page.locator("input[name=configs][value=mock-large]").check()
    configs[1].max_tokens = 60  # this one stops early, so its output differs
    configs[1].save()
    page.click("#run-button")
    columns = page.locator("article.column")
    expect(columns).to_have_count(2)
    expect(columns.first.locator(".diff")).to_contain_text("Same as the stored artifact.", timeout=15_000)
    expect(columns.last.locator(".diff .diff-del").first).to_be_visible(timeout=15_000)
    expect(columns.last.locator(".diff h3")).to_have_text("Diff against the stored artifact")
    screenshot(page, "playground-replay")


def test_a_failing_config_shows_its_error_while_the_other_column_finishes(asgi_logged_in_page, configs) -> None:
    make_provider_config(
        name="local-llama",
        provider="openai-compatible",
        model="llama3.1:8b",
        base_url=f"http://127.0.0.1:{free_port()}/v1",  # nothing listens there
        max_retries=0,
    )
    page = asgi_logged_in_page
    _run(page, "Write a review", "local-llama", "mock")
    failed, other = page.locator("article.column").all()
    expect(failed).to_have_attribute("data-state", "error")
    expect(failed.locator(".error-title")).to_have_text("Provider unavailable")
    expect(failed.locator(".error-class")).to_have_text("LLMProviderUnavailableError")
    assert failed.locator(".error-message").inner_text()
    expect(other).to_have_attribute("data-state", "streaming")  # still going after the failure
    expect(other).to_have_attribute("data-state", "done", timeout=15_000)
    expect(failed.locator(".save-form")).to_be_hidden()
    screenshot(page, "playground-error")
    assert LLMCall.objects.get(config_name="local-llama").status == CallStatus.ERROR


def test_stop_cancels_the_runs_and_the_ledger_records_them(asgi_logged_in_page) -> None:
    make_provider_config(name="slow", options={"stream_delay_seconds": 0.2})
    page = asgi_logged_in_page
    _run(page, "Write a review", "slow")
    column = page.locator("article.column")
    expect(column.locator(".output")).not_to_be_empty()
    page.click("#stop-button")
    expect(column).to_have_attribute("data-state", "stopped")
    expect(column.locator(".column-note")).to_contain_text("recorded as cancelled")
    expect(page.locator("#run-button")).to_be_enabled()
    screenshot(page, "playground-stopped", full_page=False)
    deadline = time.monotonic() + 5
    while not (call := LLMCall.objects.filter(config_name="slow").first()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert call is not None and call.status == CallStatus.CANCELLED
    assert call.completion_tokens > 0


def test_bad_input_is_refused_in_the_column(asgi_logged_in_page, configs) -> None:
    page = asgi_logged_in_page
    page.goto("/playground/")
    page.fill("#id_prompt", "Write a review")
    page.fill("#id_max_tokens", "0")
    page.locator("#id_max_tokens").evaluate("input => input.removeAttribute('min')")  # past the browser's check
    page.click("#run-button")
    column = page.locator("article.column")
    expect(column).to_have_attribute("data-state", "error")
    expect(column.locator(".error-message")).to_contain_text(
        "max_tokens: Ensure this value is greater than or equal to 1."
    )
    assert not LLMCall.objects.exists()


def test_hostile_prompts_outputs_errors_and_diffs_run_nothing(asgi_logged_in_page) -> None:
    from tests.browser.test_untrusted_content import ATTRIBUTE_BREAKOUT, HTMX, IMG, SCRIPT, assert_nothing_ran, watch

    page = asgi_logged_in_page
    seen = watch(page)
    hostile_text = f"{SCRIPT}\n{IMG}\n{HTMX}\n{ATTRIBUTE_BREAKOUT}\n"
    with FakeOpenAIServer(api_key=None) as good, FakeOpenAIServer(api_key=None) as bad:
        good.queue(Reply(text=hostile_text), Reply(text=f"{HTMX}\n{SCRIPT}\n"))
        bad.queue(Reply.error(400, f"{IMG}{HTMX}"))
        for name, server in (("vendor", good), ("vendor-down", bad)):
            make_provider_config(
                name=name, provider="openai-compatible", model=f"m{IMG}", base_url=server.base_url, max_retries=0
            )
        _run(page, f"{IMG}{HTMX}", "vendor", "vendor-down")
        ok, failed = page.locator("article.column").all()
        expect(ok).to_have_attribute("data-state", "done")
        expect(failed).to_have_attribute("data-state", "error")
        assert ok.locator(".output").inner_text() == hostile_text
        assert ok.locator(".column-model").inner_text() == f"openai-compatible/m{IMG}"
        assert f"{IMG}{HTMX}" in failed.locator(".error-message").inner_text()
        assert_nothing_ran(page, seen, "the playground's columns")

        ok.locator(".save-form button[type=submit]").click()
        expect(ok.locator(".save-result")).to_contain_text("Saved as art-")
        ok.locator(".save-result a").click()
        page.wait_for_url("**/artifacts/art-*/")
        page.click("text=Replay in playground")
        page.wait_for_url("**/playground/?replay=*")
        assert page.locator("#id_prompt").input_value() == f"{IMG}{HTMX}"
        assert_nothing_ran(page, seen, "the replay page")
        page.click("#run-button")
        diff = page.locator("article.column .diff")
        expect(diff.locator(".diff-del").first).to_be_visible()
        assert f"-{IMG}" in diff.inner_text() and f"+{HTMX}" in diff.inner_text()
        assert_nothing_ran(page, seen, "the replay's diff")
