"""Versions of one logical artifact and the diff between two."""

from __future__ import annotations

import pytest

from artifacts.store import InMemoryArtifactStore, InvalidArtifactError
from artifacts.versions import LineageKey, artifact_diff, artifact_version_diff, artifact_versions, lineage_key
from tests.artifacts.test_store_contract import call
from tests.factories import make_artifact


@pytest.fixture
def store() -> InMemoryArtifactStore:
    return InMemoryArtifactStore()


def test_the_lineage_key_is_name_agent_and_type() -> None:
    artifact = make_artifact(metadata={"name": "src/app.py"}, agent_id="coder", artifact_type="code")
    assert lineage_key(artifact) == LineageKey("src/app.py", "coder", "code")
    assert lineage_key(make_artifact(metadata={})) is None


def test_it_lists_every_version_across_runs(store) -> None:
    runs = [make_artifact(workflow_id=f"run-{i}", metadata={"name": "src/app.py"}) for i in range(3)]
    for artifact in runs:
        call(store.save, artifact)
    call(store.save, make_artifact(metadata={"name": "src/other.py"}))
    assert call(artifact_versions, artifact_id=runs[1].artifact_id, store=store) == runs
    assert call(
        artifact_versions, artifact_id=runs[0].artifact_id, store=store, limit=1, after=runs[0].artifact_id
    ) == [runs[1]]


def test_an_unnamed_artifact_is_its_only_version(store) -> None:
    loner = make_artifact(metadata={})
    call(store.save, loner)
    assert call(artifact_versions, artifact_id=loner.artifact_id, store=store) == [loner]
    assert call(artifact_versions, artifact_id="art-missing", store=store) == []


def test_the_diff_is_unified_and_labelled() -> None:
    old = make_artifact(artifact_id="art-old", content="a\nb\nc\n")
    new = make_artifact(artifact_id="art-new", content="a\nB\nc\nd\n")
    diff = artifact_diff(old, new)
    assert diff.splitlines()[0].startswith("--- art-old\t")
    assert diff.splitlines()[1].startswith("+++ art-new\t")
    assert "-b\n+B\n" in diff and "+d\n" in diff
    assert artifact_diff(old, old) == ""


def test_it_diffs_stored_versions_by_id(store) -> None:
    old, new = make_artifact(content="x = 1\n"), make_artifact(content="x = 2\n")
    call(store.save, old)
    call(store.save, new)
    assert "-x = 1\n+x = 2\n" in call(
        artifact_version_diff, from_id=old.artifact_id, to_id=new.artifact_id, store=store
    )
    with pytest.raises(InvalidArtifactError, match="art-gone"):
        call(artifact_version_diff, from_id=old.artifact_id, to_id="art-gone", store=store)
