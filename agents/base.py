"""The seed's agent integration: tasks in, artifacts and results out, over the store and provider interfaces."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from artifacts.store import ArtifactStore
from llm.providers import BaseLLMProvider

log = logging.getLogger(__name__)


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(slots=True)
class Task:
    """One unit of work for an agent; `metadata["workflow_id"]` places it in a workflow."""

    task_id: str
    input_data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    status: TaskStatus = TaskStatus.PENDING

    @property
    def workflow_id(self) -> str:
        return str(self.metadata.get("workflow_id") or "default")


@dataclass(slots=True)
class TaskResult:
    task_id: str
    status: TaskStatus
    output_data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is TaskStatus.COMPLETED


class BaseAgent(ABC):
    """An agent with an LLM provider and an artifact store injected.

    `execute` never raises for a failure of the work itself: it returns a FAILED result with the
    error. Subclasses save at most one artifact, as their last step, so a failure never leaves a
    half-saved one behind.
    """

    def __init__(
        self,
        agent_id: str,
        config: dict[str, Any] | None,
        llm_provider: BaseLLMProvider,
        artifact_store: ArtifactStore,
    ) -> None:
        self.agent_id = agent_id
        self.config = dict(config or {})
        self.llm_provider = llm_provider
        self.artifact_store = artifact_store

    async def execute(self, task: Task) -> TaskResult:
        task.status = TaskStatus.RUNNING
        try:
            output = await self._execute(task)
        except Exception as exc:
            log.warning("agent %s failed task %s: %s", self.agent_id, task.task_id, exc)
            task.status = TaskStatus.FAILED
            return TaskResult(task.task_id, TaskStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        task.status = TaskStatus.COMPLETED
        return TaskResult(task.task_id, TaskStatus.COMPLETED, output_data=output)

    @abstractmethod
    async def _execute(self, task: Task) -> dict[str, Any]:
        """Do the work; return the result's output data. Raise to fail the task."""
