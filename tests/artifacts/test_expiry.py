"""Retention settings, the purge command and the purge task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from artifacts.expiry import retention_for, with_default_expiry
from artifacts.models import ArtifactRecord
from artifacts.store import DjangoArtifactStore
from artifacts.tasks import purge_expired_artifacts_task
from conductor_site.settings import envintmap
from tests.artifacts.test_store_contract import call
from tests.factories import make_artifact


def test_retention_is_per_type_with_a_wildcard(settings) -> None:
    settings.CONDUCTOR_RETENTION_DAYS = {"test_data": 7, "*": 90, "code": -1}
    assert retention_for("test_data") == timedelta(days=7)
    assert retention_for("review") == timedelta(days=90)
    assert retention_for("code") is None


def test_an_explicit_expiry_wins_over_the_default(settings) -> None:
    settings.CONDUCTOR_RETENTION_DAYS = {"*": 1}
    mine = datetime(2030, 1, 1, tzinfo=UTC)
    assert with_default_expiry(make_artifact(expires_at=mine)).expires_at == mine


def test_retention_reads_key_number_pairs_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CONDUCTOR_RETENTION_DAYS", "test_data=7, *=90")
    assert envintmap("CONDUCTOR_RETENTION_DAYS", {}) == {"test_data": 7, "*": 90}
    monkeypatch.setenv("CONDUCTOR_RETENTION_DAYS", "test_data:7")
    with pytest.raises(Exception, match="key=number"):
        envintmap("CONDUCTOR_RETENTION_DAYS", {})


def save_expired_and_live() -> None:
    store = DjangoArtifactStore()
    now = datetime.now(UTC)
    for i in range(3):
        call(store.save, make_artifact(expires_at=now - timedelta(hours=i + 1)))
    call(store.save, make_artifact())


@pytest.mark.django_db
def test_the_command_purges_in_batches() -> None:
    save_expired_and_live()
    out = StringIO()
    call_command("purge_expired_artifacts", "--batch-size", "2", stdout=out)
    assert out.getvalue() == "Purged 3 expired artifacts.\n"
    assert ArtifactRecord.all_objects.count() == 1


@pytest.mark.django_db
def test_the_command_refuses_a_zero_batch() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_expired_artifacts", "--batch-size", "0")


@pytest.mark.django_db(transaction=True)
def test_the_task_purges_the_configured_store() -> None:
    save_expired_and_live()
    result = purge_expired_artifacts_task.enqueue()
    assert result.return_value == 3
    assert ArtifactRecord.all_objects.count() == 1


@pytest.mark.django_db
def test_expired_rows_leave_the_default_manager_and_the_admin_at_once(admin_client) -> None:
    save_expired_and_live()
    assert ArtifactRecord.objects.count() == 1
    assert ArtifactRecord.all_objects.expired().count() == 3
    response = admin_client.get("/admin/artifacts/artifactrecord/")
    assert response.content.count(b'class="action-select"') == 1
