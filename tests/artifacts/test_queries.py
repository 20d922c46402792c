from __future__ import annotations

from datetime import timedelta

import pytest

from artifacts.models import ArtifactRecord
from artifacts.queries import ArtifactFilters, artifact_page, decode_cursor
from artifacts.store import InvalidArtifactError
from tests.factories import make_artifact

pytestmark = pytest.mark.django_db


def store(**fields) -> ArtifactRecord:
    record = ArtifactRecord.from_artifact(make_artifact(**fields))
    record.save(force_insert=True)
    return record


def ids(page) -> list[str]:
    return [r.artifact_id for r in page.rows]


def test_it_filters_by_every_field() -> None:
    wanted = store(workflow_id="wf-a", task_id="t-a", agent_id="tester", artifact_type="test", content="assert fib(3)")
    store(workflow_id="wf-a", task_id="t-b", agent_id="tester", artifact_type="test", content="assert other")
    store(workflow_id="wf-b", task_id="t-a", agent_id="coder", artifact_type="code", content="def fib")
    filters = ArtifactFilters(workflow_id="wf-a", task_id="t-a", agent_id="tester", artifact_type="test", q="fib")
    assert ids(artifact_page(filters=filters)) == [wanted.artifact_id]


def test_it_filters_by_date_range_half_open() -> None:
    rows = [store() for _ in range(3)]
    filters = ArtifactFilters(since=rows[1].created_at, until=rows[2].created_at)
    assert ids(artifact_page(filters=filters)) == [rows[1].artifact_id]


def test_full_text_search_accepts_any_user_text() -> None:
    store(content="hello world")
    for q in ['"unclosed', "a & | ! (", "OR", "-", "' ; drop table x; --"]:
        artifact_page(filters=ArtifactFilters(q=q))  # never a database error


@pytest.mark.parametrize("newest_first", [True, False])
def test_paging_neither_skips_nor_repeats_while_rows_arrive(newest_first: bool) -> None:
    first = [store() for _ in range(7)]
    seen, cursor = [], None
    while True:
        page = artifact_page(filters=ArtifactFilters(), limit=3, cursor=cursor, newest_first=newest_first)
        seen += ids(page)
        store(created_at=first[-1].created_at + timedelta(hours=len(seen)))  # a new artifact mid-walk
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = [r.artifact_id for r in (reversed(first) if newest_first else first)]
    assert seen[: len(first)] == expected
    assert len(seen) == len(set(seen))


def test_the_last_page_has_no_cursor() -> None:
    store()
    assert artifact_page(filters=ArtifactFilters(), limit=1).next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "", "bm90LWEtZGF0ZXxpZA", "MjAyNi0wMS0wMXw"])
def test_a_bad_cursor_is_a_clear_error(cursor: str) -> None:
    with pytest.raises(InvalidArtifactError, match="cursor is not valid"):
        decode_cursor(cursor)


def test_bad_limits_and_types_are_clear_errors() -> None:
    with pytest.raises(InvalidArtifactError, match="limit must be between 1 and 500"):
        artifact_page(filters=ArtifactFilters(), limit=501)
    with pytest.raises(InvalidArtifactError, match="known types are"):
        ArtifactFilters(artifact_type="poem")


@pytest.mark.parametrize("field", ["workflow_id", "task_id", "agent_id", "q"])
def test_filters_refuse_text_postgres_cannot_compare(field: str) -> None:
    with pytest.raises(InvalidArtifactError, match="NUL"):
        ArtifactFilters(**{field: "a\x00b"})
