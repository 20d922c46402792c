"""A sequential runner for the seven-agent pipeline: each task builds on the artifacts before it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from agents.base import Task, TaskResult, TaskStatus
from agents.pipeline import PIPELINE, ProducingAgent
from artifacts.store import ArtifactStore
from llm.providers import BaseLLMProvider

StepCallback = Callable[[int, ProducingAgent, Task, TaskResult | None], Awaitable[None]]


def new_workflow_id() -> str:
    return f"wf-{uuid.uuid4().hex[:12]}"


@dataclass(slots=True)
class WorkflowResult:
    workflow_id: str
    results: list[TaskResult] = field(default_factory=list)

    @property
    def status(self) -> TaskStatus:
        failed = any(r.status is TaskStatus.FAILED for r in self.results)
        return TaskStatus.FAILED if failed else TaskStatus.COMPLETED

    @property
    def failed_task(self) -> TaskResult | None:
        return next((r for r in self.results if r.status is TaskStatus.FAILED), None)


class WorkflowRunner:
    """Runs the agents in order under one workflow id and stops at the first failed task."""

    def __init__(
        self,
        *,
        llm_provider: BaseLLMProvider,
        artifact_store: ArtifactStore,
        agents: Sequence[type[ProducingAgent]] = PIPELINE,
    ) -> None:
        self.agents = [cls(cls.default_agent_id, None, llm_provider, artifact_store) for cls in agents]

    async def run(
        self, specification: str, *, workflow_id: str | None = None, on_step: StepCallback | None = None
    ) -> WorkflowResult:
        """Run every agent; `on_step(index, agent, task, result)` is awaited before (result None) and after each."""
        outcome = WorkflowResult(workflow_id or new_workflow_id())
        for index, agent in enumerate(self.agents):
            task = Task(
                task_id=f"{outcome.workflow_id}-{index + 1}-{agent.artifact_type}",
                input_data={"specification": specification},
                metadata={"workflow_id": outcome.workflow_id},
            )
            if on_step:
                await on_step(index, agent, task, None)
            result = await agent.execute(task)
            outcome.results.append(result)
            if on_step:
                await on_step(index, agent, task, result)
            if not result.succeeded:
                break
        return outcome
