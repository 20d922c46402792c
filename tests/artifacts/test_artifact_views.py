"""The artifact list, an artifact's page, its raw download and its deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from artifacts.models import ArtifactRecord, WorkflowRollup
from tests.factories import make_artifact, store_artifact

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    return [a.artifact_id for a in response.context["artifacts"]]


def test_the_list_filters_by_workflow_task_agent_type_and_text(viewer_client) -> None:
    wanted = store_artifact(workflow_id="wf-a", task_id="t-a", agent_id="tester", artifact_type="test", content="fib")
    store_artifact(workflow_id="wf-a", task_id="t-b", agent_id="tester", artifact_type="test", content="fib")
    store_artifact(workflow_id="wf-b", task_id="t-a", agent_id="coder", content="fib")
    response = viewer_client.get("/artifacts/?workflow=wf-a&task=t-a&agent=tester&type=test&q=fib")
    assert shown(response) == [wanted.artifact_id]
    assert viewer_client.get("/artifacts/?agent=coder").context["artifacts"][0].agent_id == "coder"


def test_the_list_filters_by_an_inclusive_date_range(viewer_client) -> None:
    store_artifact(created_at=datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    inside = store_artifact(created_at=datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    store_artifact(created_at=datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    assert shown(viewer_client.get("/artifacts/?since=2026-03-02&until=2026-03-02")) == [inside.artifact_id]


def test_bad_filters_say_what_is_wrong_instead_of_failing(viewer_client) -> None:
    store_artifact()
    response = viewer_client.get("/artifacts/?since=yesterday&type=poem&until=2026-01-01")
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert b"Enter a valid date" in response.content
    assert viewer_client.get("/artifacts/?since=2026-02-02&until=2026-01-01").context["form"].errors


def test_an_htmx_filter_swaps_the_results_and_sets_a_clean_url(viewer_client, django_assert_num_queries) -> None:
    store_artifact(agent_id="coder")
    with django_assert_num_queries(4):  # session, user, agent menu, the page
        response = viewer_client.get("/artifacts/?q=&workflow=&agent=coder&type=", headers={"HX-Request": "true"})
    assert response.content.lstrip().startswith(b'<div id="results">')
    assert response["HX-Push-Url"] == "/artifacts/?agent=coder"


def test_load_more_pages_by_cursor_without_repeating(viewer_client) -> None:
    records = [store_artifact() for _ in range(120)]
    first = viewer_client.get("/artifacts/")
    seen = shown(first)
    more = viewer_client.get(first.context["next_url"], headers={"HX-Request": "true"})
    assert b"<table" not in more.content and b'class="load-more"' in more.content
    seen += shown(more)
    last = viewer_client.get(more.context["next_url"], headers={"HX-Request": "true"})
    seen += shown(last)
    assert last.context["next_url"] is None
    assert seen == [r.artifact_id for r in reversed(records)]


def test_a_filtered_load_more_keeps_the_filters(viewer_client) -> None:
    for _ in range(55):
        store_artifact(agent_id="coder")
    store_artifact(agent_id="tester")
    first = viewer_client.get("/artifacts/?agent=coder")
    assert "agent=coder" in first.context["next_url"]
    assert {a.agent_id for a in viewer_client.get(first.context["next_url"]).context["artifacts"]} == {"coder"}


def test_a_tampered_cursor_goes_back_to_the_first_page(viewer_client) -> None:
    response = viewer_client.get("/artifacts/?agent=coder&cursor=not-a-cursor")
    assert response.status_code == 302
    assert response["Location"] == "/artifacts/?agent=coder"


def test_an_artifact_page_highlights_by_metadata_language(viewer_client) -> None:
    record = store_artifact(content="def fib(n):\n    return n\n", metadata={"language": "python", "owner": {"a": 1}})
    response = viewer_client.get(f"/artifacts/{record.artifact_id}/")
    html = response.content.decode()
    assert '<span class="k">def</span>' in html
    assert '<td class="linenos">' in html
    assert 'data-copy-target="#artifact-content td.code"' in html
    assert f'href="/artifacts/{record.artifact_id}/raw"' in html
    assert '<th scope="row">owner</th>' in html and "&quot;a&quot;: 1" in html
    assert f'href="/workflows/{record.workflow_id}/"' in html


@pytest.mark.parametrize(
    ("artifact_type", "metadata", "content", "language"),
    [
        ("config", {}, "a: 1\n", "YAML"),
        ("test_data", {}, '{"a": 1}', "JSON"),
        ("code", {"filename": "main.rs"}, "fn main() {}", "Rust"),
        ("code", {"language": "no-such-language"}, "hello", "Text only"),
        ("review", {}, "# Review\n", "Markdown"),
    ],
)
def test_the_highlighting_follows_the_type_or_file_name(viewer_client, artifact_type, metadata, content, language):
    record = store_artifact(artifact_type=artifact_type, metadata=metadata, content=content)
    assert viewer_client.get(f"/artifacts/{record.artifact_id}/").context["content"].language.startswith(language)


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_the_raw_download_is_plain_text_as_an_attachment(viewer_client) -> None:
    record = store_artifact(content="<script>alert(1)</script>")
    response = viewer_client.get(f"/artifacts/{record.artifact_id}/raw")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Length"] == "25"
    assert b"".join(response) == b"<script>alert(1)</script>"


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_the_raw_download_streams_compressed_content_in_full(viewer_client) -> None:
    from asgiref.sync import async_to_sync

    from artifacts.store import ContentPolicy, DjangoArtifactStore
    from tests.factories import make_artifact

    big = "line of text\n" * 50_000
    artifact = make_artifact(content=big)
    async_to_sync(DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0)).save)(artifact)
    assert ArtifactRecord.objects.get(pk=artifact.artifact_id).content == ""  # it is in the compressed blob
    response = viewer_client.get(f"/artifacts/{artifact.artifact_id}/raw")
    assert b"".join(response).decode() == big
    page = viewer_client.get(f"/artifacts/{artifact.artifact_id}/")
    assert page.context["content"].truncated  # 650 kB: the page shows the start, the download has it all
    assert page.context["size"] == len(big)
    assert b"Download it for the whole" in page.content


def test_an_unknown_artifact_is_a_404_in_the_site_style(viewer_client) -> None:
    response = viewer_client.get("/artifacts/art-missing/")
    assert response.status_code == 404
    assert b"Nothing here" in response.content and b"/static/css/conductor.css" in response.content


def test_only_staff_see_the_delete_button(viewer_client) -> None:
    record = store_artifact()
    url = f"/artifacts/{record.artifact_id}/"
    assert b"Delete" not in viewer_client.get(url).content


def test_staff_see_it(staff_client) -> None:
    record = store_artifact()
    assert b"Delete" in staff_client.get(f"/artifacts/{record.artifact_id}/").content


def test_non_staff_cannot_delete(viewer_client) -> None:
    record = store_artifact()
    for method in (viewer_client.get, viewer_client.post, viewer_client.delete):
        assert method(f"/artifacts/{record.artifact_id}/delete").status_code == 403
    assert ArtifactRecord.objects.filter(pk=record.pk).exists()


def test_staff_confirm_then_delete(staff_client) -> None:
    record = store_artifact(workflow_id="wf-x")
    confirm = staff_client.get(f"/artifacts/{record.artifact_id}/delete")
    assert b"Delete this artifact?" in confirm.content
    response = staff_client.post(f"/artifacts/{record.artifact_id}/delete", follow=True)
    assert response.redirect_chain[-1][0] == "/artifacts/?workflow=wf-x"
    assert b"Deleted artifact" in response.content
    assert not ArtifactRecord.objects.filter(pk=record.pk).exists()
    assert not WorkflowRollup.objects.filter(pk="wf-x").exists()


def test_an_htmx_delete_redirects_the_client(staff_client) -> None:
    record = store_artifact()
    response = staff_client.delete(f"/artifacts/{record.artifact_id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/artifacts/?workflow=")
    assert not ArtifactRecord.objects.filter(pk=record.pk).exists()


def test_deleting_needs_the_csrf_token(django_user_model) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    record = store_artifact()
    assert client.delete(f"/artifacts/{record.artifact_id}/delete").status_code == 403
    assert ArtifactRecord.objects.filter(pk=record.pk).exists()
    client.get(f"/artifacts/{record.artifact_id}/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    response = client.delete(
        f"/artifacts/{record.artifact_id}/delete", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 200
    assert not ArtifactRecord.objects.filter(pk=record.pk).exists()


def test_the_artifact_page_shows_original_and_stored_size(viewer_client, settings) -> None:
    from asgiref.sync import async_to_sync

    from artifacts.store import DjangoArtifactStore

    settings.CONDUCTOR_COMPRESSION_MIN_BYTES = 1_000
    artifact = make_artifact(content="a line of text\n" * 1_000)
    async_to_sync(DjangoArtifactStore().save)(artifact)
    html = viewer_client.get(f"/artifacts/{artifact.artifact_id}/").content.decode()
    assert "14.6\xa0KB" in html  # original
    assert "· zstd · database" in html


def test_versions_of_one_lineage_are_listed_and_any_two_diffed(viewer_client) -> None:
    versions = [
        store_artifact(workflow_id=f"wf-{n}", agent_id="coder", metadata={"name": "src/app.py"}, content=text)
        for n, text in enumerate(["a = 1\nb = 2\n", "a = 1\nb = 3\n", "a = 2\nb = 3\n"])
    ]
    store_artifact(agent_id="coder", metadata={"name": "src/other.py"})
    html = viewer_client.get(f"/artifacts/{versions[2].artifact_id}/").content.decode()
    assert "Versions of “src/app.py”" in html
    assert all(v.artifact_id in html for v in versions)
    assert "src/other.py" not in html

    compared = viewer_client.get(f"/artifacts/{versions[2].artifact_id}/?compare={versions[0].artifact_id}")
    html = compared.content.decode()
    assert f"Changes from <code>{versions[0].artifact_id}</code> to <code>{versions[2].artifact_id}</code>" in html
    assert '<span class="diff-del">-a = 1</span>' in html
    assert '<span class="diff-add">+a = 2</span>' in html


def test_an_artifact_without_a_lineage_name_has_no_versions_section(viewer_client) -> None:
    record = store_artifact(metadata={})
    html = viewer_client.get(f"/artifacts/{record.artifact_id}/?compare=art-elsewhere").content.decode()
    assert 'id="versions"' not in html
