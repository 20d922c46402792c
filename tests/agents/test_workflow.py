from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from agents.base import TaskStatus
from agents.models import WorkflowRun
from agents.pipeline import PIPELINE
from agents.runs import create_workflow_run, execute_workflow_run
from agents.workflow import WorkflowRunner
from artifacts.models import ArtifactRecord
from artifacts.store import DjangoArtifactStore, InMemoryArtifactStore
from llm.models import LLMCall, ProviderConfig
from llm.providers import LLMProviderUnavailableError, MockLLMProvider
from llm.recording import RecordingProvider

SEVEN_TYPES = ["code", "test", "test_data", "review", "config", "deployment", "monitoring_report"]


async def test_each_agent_reads_what_earlier_agents_produced() -> None:
    provider = MockLLMProvider()
    store = InMemoryArtifactStore()
    outcome = await WorkflowRunner(llm_provider=provider, artifact_store=store).run("Order totals", workflow_id="wf")
    assert outcome.status == TaskStatus.COMPLETED
    artifacts = await store.list_by_workflow("wf")
    assert [a.artifact_type for a in artifacts] == SEVEN_TYPES
    code, test = artifacts[0], artifacts[1]
    prompts = [call["prompt"] for call in provider.call_history]
    assert code.artifact_id in prompts[1]  # the test agent reads the code
    assert code.artifact_id in prompts[3] and test.artifact_id in prompts[3]  # the reviewer reads both
    assert test.metadata["sources"] == [code.artifact_id]
    # with the mock, every step produced content of its own kind
    markers = ["def ", "def test_", '"order_id"', "Verdict", "runs-on:", "kind: Deployment", "Monitoring report"]
    assert all(marker in a.content for marker, a in zip(markers, artifacts, strict=True))


@pytest.mark.django_db(transaction=True)
async def test_a_full_run_links_seven_artifacts_to_their_calls_and_sums_the_cost() -> None:
    await ProviderConfig.objects.filter(name="mock").aupdate(
        input_price_per_million=Decimal("3"), output_price_per_million=Decimal("15")
    )
    run = await create_workflow_run_async("Order totals")
    run = await execute_workflow_run(run.pk)

    assert run.status == WorkflowRun.Status.SUCCEEDED
    records = [r async for r in ArtifactRecord.objects.filter(workflow_id=run.workflow_id).order_by("created_at")]
    assert [r.artifact_type for r in records] == SEVEN_TYPES
    calls = {c.pk: c async for c in LLMCall.objects.filter(workflow_id=run.workflow_id)}
    assert len(calls) == 7
    for record in records:
        call = calls[record.metadata["llm_call_id"]]
        assert (call.task_id, call.agent_id) == (record.task_id, record.agent_id)
    totals = await LLMCall.objects.filter(workflow_id=run.workflow_id).aaggregate(
        t=Sum("total_tokens"), c=Sum("cost_usd")
    )
    assert totals["t"] == sum(step["tokens"] for step in run.steps)
    assert totals["c"] == sum(c.cost_usd for c in calls.values()) > 0


@pytest.mark.django_db(transaction=True)
async def test_a_failure_at_step_four_stops_the_run_and_keeps_steps_one_to_three() -> None:
    provider = MockLLMProvider()
    provider.queue_responses(["code", "tests", "data", LLMProviderUnavailableError("review service down")])
    config = await ProviderConfig.objects.aget(name="mock")
    recorded = RecordingProvider(provider, config=config)
    outcome = await WorkflowRunner(llm_provider=recorded, artifact_store=DjangoArtifactStore()).run(
        "x", workflow_id="wf-4"
    )

    assert outcome.status == TaskStatus.FAILED
    assert outcome.failed_task.task_id == "wf-4-4-review"
    assert "review service down" in outcome.failed_task.error
    assert [r.status for r in outcome.results] == [TaskStatus.COMPLETED] * 3 + [TaskStatus.FAILED]
    types = [r.artifact_type async for r in ArtifactRecord.objects.filter(workflow_id="wf-4").order_by("created_at")]
    assert types == ["code", "test", "test_data"]
    statuses = [c.status async for c in LLMCall.objects.filter(workflow_id="wf-4").order_by("pk")]
    assert statuses == ["ok", "ok", "ok", "error"]


async def create_workflow_run_async(specification: str) -> WorkflowRun:
    from asgiref.sync import sync_to_async

    return await sync_to_async(create_workflow_run)(specification=specification, provider_name="mock")


@pytest.mark.django_db
def test_run_workflow_command_prints_each_step(capsys) -> None:
    call_command("run_workflow", "A token bucket", "--provider", "mock")
    out = capsys.readouterr().out
    assert out.count("completed") == len(PIPELINE)
    assert "succeeded" in out


@pytest.mark.django_db
def test_run_workflow_refuses_an_unknown_provider() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No enabled provider config named 'nope'; enabled configs: mock"):
        call_command("run_workflow", "x", "--provider", "nope")
