"""One agent per artifact type, each building on what earlier agents of the same workflow produced."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from agents.base import BaseAgent, Task
from artifacts.store import Artifact
from llm.providers import LLMResponse
from llm.recording import attribution

_FENCE = re.compile(r"\A\s*```([\w+-]*)[^\n]*\n(.*?)\n```\s*\Z", re.DOTALL)
# How much of each earlier artifact goes into a prompt: enough to work from, bounded for cost.
MAX_CONTEXT_CHARS = 12_000


class ProducingAgent(BaseAgent):
    """Asks its provider for one work product and stores it as an artifact of `artifact_type`."""

    artifact_type: ClassVar[str]
    default_agent_id: ClassVar[str]
    system_prompt: ClassVar[str]
    instruction: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()
    language: ClassVar[str]
    framework: ClassVar[str | None] = None

    async def _execute(self, task: Task) -> dict[str, Any]:
        specification = str(task.input_data.get("specification") or "").strip()
        if not specification:
            raise ValueError("task.input_data needs a non-empty 'specification'.")
        sources = await self._earlier_artifacts(task.workflow_id)
        with attribution(agent_id=self.agent_id, workflow_id=task.workflow_id, task_id=task.task_id):
            response = await self.llm_provider.generate_with_system(
                self.system_prompt, self.build_prompt(specification, sources)
            )
        language, content = unfence(response.content, default_language=self.language)
        artifact = Artifact(
            workflow_id=task.workflow_id,
            task_id=task.task_id,
            agent_id=self.agent_id,
            artifact_type=self.artifact_type,
            content=content,
            metadata=self._metadata(language, response, sources),
        )
        await self.artifact_store.save(artifact)
        return {
            "artifact_id": artifact.artifact_id,
            "artifact_type": self.artifact_type,
            "tokens_used": response.usage.total_tokens,
            "llm_call_id": _call_id(response),
        }

    def build_prompt(self, specification: str, sources: list[Artifact]) -> str:
        parts = [self.instruction, f"Specification:\n{specification}"]
        for source in sources:
            excerpt = source.content[:MAX_CONTEXT_CHARS]
            parts.append(f"{source.artifact_type} from {source.agent_id} ({source.artifact_id}):\n{excerpt}")
        return "\n\n".join(parts)

    async def _earlier_artifacts(self, workflow_id: str) -> list[Artifact]:
        """The newest artifact of each type this agent reads, from earlier tasks of the workflow."""
        if not self.reads:
            return []
        latest: dict[str, Artifact] = {}
        after = None
        while page := await self.artifact_store.list_by_workflow(workflow_id, limit=200, after=after):
            for artifact in page:
                if artifact.artifact_type in self.reads:
                    latest[artifact.artifact_type] = artifact
            after = page[-1].artifact_id
        return [latest[t] for t in self.reads if t in latest]

    def _metadata(self, language: str, response: LLMResponse, sources: list[Artifact]) -> dict[str, Any]:
        ledger = response.metadata.get("ledger") or {}
        return {
            "language": language,
            "framework": self.framework,
            "model": response.model,
            "provider": response.metadata.get("provider"),
            "tokens": {
                "prompt": response.usage.prompt_tokens,
                "completion": response.usage.completion_tokens,
                "total": response.usage.total_tokens,
            },
            "llm_call_id": _call_id(response),
            "cost_usd": ledger.get("cost_usd"),
            "sources": [s.artifact_id for s in sources],
        }


def unfence(text: str, *, default_language: str) -> tuple[str, str]:
    """(language, body) of a reply wrapped in one Markdown code fence, else (default, text)."""
    if match := _FENCE.match(text):
        return match.group(1) or default_language, match.group(2) + "\n"
    return default_language, text


def _call_id(response: LLMResponse) -> int | None:
    return (response.metadata.get("ledger") or {}).get("call_id")


class CodingAgent(ProducingAgent):
    artifact_type = "code"
    default_agent_id = "coding-agent"
    system_prompt = "You are a senior software engineer. Write clean, production-ready Python code."
    instruction = "Write the Python module this specification asks for. Reply with the code only."
    language = "python"


class TestAgent(ProducingAgent):
    __test__ = False  # not a pytest class
    artifact_type = "test"
    default_agent_id = "test-agent"
    system_prompt = "You are a test engineer. Write thorough pytest unit tests."
    instruction = "Write pytest tests for the code below. Reply with the test module only."
    reads = ("code",)
    language = "python"
    framework = "pytest"


class TestDataAgent(ProducingAgent):
    __test__ = False
    artifact_type = "test_data"
    default_agent_id = "test-data-agent"
    system_prompt = "You generate test data: realistic JSON fixtures and sample data."
    instruction = "Produce fixtures that exercise the code below, edge cases included."
    reads = ("code",)
    language = "json"


class ReviewAgent(ProducingAgent):
    artifact_type = "review"
    default_agent_id = "review-agent"
    system_prompt = "You are a meticulous reviewer. Review code and tests for correctness, risk and clarity."
    instruction = "Review the code and tests below. Give a verdict and findings by severity."
    reads = ("code", "test")
    language = "markdown"


class DevOpsAgent(ProducingAgent):
    artifact_type = "config"
    default_agent_id = "devops-agent"
    system_prompt = "You are a DevOps engineer. Write CI pipelines as GitHub Actions YAML."
    instruction = "Write a CI pipeline that lints and tests the project below."
    reads = ("code", "test")
    language = "yaml"
    framework = "github-actions"


class DeployingAgent(ProducingAgent):
    artifact_type = "deployment"
    default_agent_id = "deploying-agent"
    system_prompt = "You are a release engineer. Write Kubernetes deployment manifests."
    instruction = "Write the Kubernetes manifests to run the service built by the pipeline below."
    reads = ("config",)
    language = "yaml"
    framework = "kubernetes"


class MonitorAgent(ProducingAgent):
    artifact_type = "monitoring_report"
    default_agent_id = "monitor-agent"
    system_prompt = "You are a site reliability engineer. Write monitoring reports with metrics and alerts."
    instruction = "Write the monitoring report for the service deployed below."
    reads = ("deployment",)
    language = "markdown"


PIPELINE: tuple[type[ProducingAgent], ...] = (
    CodingAgent,
    TestAgent,
    TestDataAgent,
    ReviewAgent,
    DevOpsAgent,
    DeployingAgent,
    MonitorAgent,
)
