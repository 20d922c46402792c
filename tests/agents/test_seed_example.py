"""The seed's CodingAgent example, as written, on the in-memory store and on the ORM store with the ledger."""

from __future__ import annotations

import pytest

from agents.base import Task, TaskStatus
from agents.pipeline import CodingAgent
from artifacts.store import DjangoArtifactStore, InMemoryArtifactStore
from llm.configured import aprovider_for
from llm.models import LLMCall
from llm.providers import MockLLMProvider


async def test_the_coding_agent_works_on_the_mock_and_the_in_memory_store() -> None:
    provider = MockLLMProvider()
    provider.queue_response("def add(a, b):\n    return a + b\n")
    store = InMemoryArtifactStore()
    agent = CodingAgent(agent_id="coder-1", config={}, llm_provider=provider, artifact_store=store)
    task = Task(task_id="task-1", input_data={"specification": "Add two numbers"}, metadata={"workflow_id": "wf-1"})

    result = await agent.execute(task)

    assert result.status == TaskStatus.COMPLETED
    artifact = await store.get(result.output_data["artifact_id"])
    assert artifact.content == "def add(a, b):\n    return a + b\n"
    assert (artifact.artifact_type, artifact.workflow_id, artifact.task_id) == ("code", "wf-1", "task-1")
    assert result.output_data["tokens_used"] == provider.last_response.usage.total_tokens > 0
    assert provider.call_history[0]["system"].startswith("You are a senior software engineer")


@pytest.mark.django_db(transaction=True)
async def test_the_coding_agent_records_its_call_in_the_ledger() -> None:
    provider = await aprovider_for("mock")
    store = DjangoArtifactStore()
    agent = CodingAgent(agent_id="coder-1", config={}, llm_provider=provider, artifact_store=store)
    task = Task(task_id="task-1", input_data={"specification": "Order totals"}, metadata={"workflow_id": "wf-1"})

    result = await agent.execute(task)

    call = await LLMCall.objects.aget(pk=result.output_data["llm_call_id"])
    assert (call.agent_id, call.workflow_id, call.task_id) == ("coder-1", "wf-1", "task-1")
    artifact = await store.get(result.output_data["artifact_id"])
    assert artifact.metadata["llm_call_id"] == call.pk
    assert artifact.metadata["language"] == "python"
    assert artifact.metadata["tokens"]["total"] == call.total_tokens == result.output_data["tokens_used"]
    assert "```" not in artifact.content


async def test_a_failing_provider_gives_a_failed_result_and_no_artifact() -> None:
    provider = MockLLMProvider()
    provider.simulate_failure("provider down")
    store = InMemoryArtifactStore()
    agent = CodingAgent(agent_id="coder-1", config={}, llm_provider=provider, artifact_store=store)

    result = await agent.execute(Task(task_id="t", input_data={"specification": "x"}, metadata={"workflow_id": "w"}))

    assert result.status == TaskStatus.FAILED
    assert "provider down" in result.error
    assert await store.count() == 0


async def test_a_task_without_a_specification_fails_with_a_plain_sentence() -> None:
    agent = CodingAgent("coder", None, MockLLMProvider(), InMemoryArtifactStore())
    result = await agent.execute(Task(task_id="t"))
    assert result.status == TaskStatus.FAILED
    assert "needs a non-empty 'specification'" in result.error
