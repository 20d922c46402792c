from __future__ import annotations

import asyncio
from io import StringIO

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import call_command
from django.db import connection

from artifacts.models import ArtifactRecord
from artifacts.store import ArtifactExistsError, DjangoArtifactStore
from tests.factories import make_artifact


def test_migrations_match_the_models(db) -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_list_and_filter_has_an_index(db) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ArtifactRecord._meta.db_table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
    for column in ["workflow_id", "task_id", "agent_id", "artifact_type"]:
        assert (column, "created_at", "artifact_id") in indexed
    assert ("created_at", "artifact_id") in indexed
    assert ("lineage_name", "agent_id", "artifact_type", "created_at", "artifact_id") in indexed
    assert ("expires_at",) in indexed
    assert constraints["artifact_search_idx"]["type"] == "gin"


def test_content_is_full_text_searchable(db) -> None:
    ArtifactRecord.from_artifact(make_artifact(content="def fibonacci(n): return n")).save(force_insert=True)
    ArtifactRecord.from_artifact(make_artifact(content="unrelated")).save(force_insert=True)
    hits = ArtifactRecord.objects.filter(search=SearchQuery("fibonacci", config="simple"))
    assert [r.content for r in hits] == ["def fibonacci(n): return n"]


def test_huge_content_saves_despite_the_tsvector_limit(db) -> None:
    artifact = make_artifact(content="word " * 400_000)  # 2 MB, past tsvector's 1 MB cap
    ArtifactRecord.from_artifact(artifact).save(force_insert=True)
    assert len(ArtifactRecord.objects.get(pk=artifact.artifact_id).content) == 2_000_000


@pytest.mark.django_db(transaction=True)
async def test_concurrent_saves_of_one_id_store_exactly_one() -> None:
    store = DjangoArtifactStore()
    first = make_artifact(content="first")
    rivals = [make_artifact(artifact_id=first.artifact_id, content=f"rival {i}") for i in range(4)]
    results = await asyncio.gather(*(store.save(a) for a in [first, *rivals]), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, ArtifactExistsError) for r in results if r is not None)
    assert await store.count() == 1


@pytest.mark.django_db(transaction=True)
def test_migration_0002_describes_rows_saved_before_it() -> None:
    import hashlib

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("artifacts", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO artifacts_artifact (artifact_id, workflow_id, task_id, agent_id, artifact_type, content,"
            " metadata, created_at) VALUES ('art-old', 'wf', 't', 'a', 'code', 'héllo', '{\"name\": \"x.py\"}', now())"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    record = ArtifactRecord.objects.get(pk="art-old")
    raw = "héllo".encode()
    assert (record.original_size, record.stored_size, record.sha256) == (6, 6, hashlib.sha256(raw).hexdigest())
    assert (record.content_encoding, record.content_location, record.lineage_name) == ("identity", "database", "x.py")
    assert ArtifactRecord.objects.filter(search=SearchQuery("héllo", config="simple")).exists()
