from __future__ import annotations

import pytest

from agents.models import WorkflowRun
from artifacts.models import ArtifactRecord

pytestmark = pytest.mark.django_db


def test_the_workflows_page_offers_to_start_a_run(client, viewer) -> None:
    client.force_login(viewer)
    response = client.get("/workflows/")
    assert b"Start workflow" in response.content
    assert b'<option value="mock" selected>mock</option>' in response.content


def test_starting_a_run_queues_it_and_shows_its_progress(client, viewer, django_capture_on_commit_callbacks) -> None:
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        response = client.post("/runs/start/", {"specification": "A token bucket", "provider": "mock"})
    assert len(enqueued) == 1
    run = WorkflowRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/{run.workflow_id}/"
    assert run.created_by == viewer
    # the test settings run tasks at once, so the run has finished by now
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.SUCCEEDED
    assert ArtifactRecord.objects.filter(workflow_id=run.workflow_id).count() == 7
    page = client.get(response["Location"])
    assert b"Pipeline run" in page.content
    assert page.content.count(b'data-step-status="completed"') == 7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"specification": "", "provider": "mock"}, b"This field is required."),
        ({"specification": "x", "provider": "nope"}, b"Select a valid choice."),
        ({"specification": "x" * 10_001, "provider": "mock"}, b"at most 10000 characters"),
    ],
)
def test_bad_input_is_a_form_error_and_starts_nothing(client, viewer, data, message) -> None:
    client.force_login(viewer)
    response = client.post("/runs/start/", data)
    assert response.status_code == 400
    assert message in response.content
    assert not WorkflowRun.objects.exists()


def test_a_queued_run_without_artifacts_has_a_page_that_polls(client, viewer) -> None:
    from agents.runs import create_workflow_run

    run = create_workflow_run(specification="later", provider_name="mock")
    client.force_login(viewer)
    page = client.get(f"/workflows/{run.workflow_id}/")
    assert page.status_code == 200
    assert f'hx-get="/runs/{run.workflow_id}/progress"'.encode() in page.content
    assert b'hx-trigger="every 1s"' in page.content


def test_the_poll_that_sees_the_end_refreshes_the_page(client, viewer) -> None:
    from agents.runs import create_workflow_run

    run = create_workflow_run(specification="x", provider_name="mock")
    client.force_login(viewer)
    assert "HX-Refresh" not in client.get(f"/runs/{run.workflow_id}/progress", headers={"HX-Request": "true"})
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.SUCCEEDED)
    response = client.get(f"/runs/{run.workflow_id}/progress", headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"
    assert b"hx-trigger" not in response.content


def test_pages_need_login(client) -> None:
    assert client.post("/runs/start/", {"specification": "x", "provider": "mock"}).status_code == 302
    assert not WorkflowRun.objects.exists()


def test_without_an_enabled_config_the_form_says_what_to_do(client, viewer) -> None:
    from llm.models import ProviderConfig

    ProviderConfig.objects.update(enabled=False)
    client.force_login(viewer)
    response = client.get("/workflows/")
    assert b"No provider config is enabled" in response.content
    assert b"Start workflow</button>" not in response.content
