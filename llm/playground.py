"""The playground: one prompt run on configured providers, side by side, every call through the ledger.

    run = PlaygroundRun(prompt="Write a haiku", system="Be brief", workflow_id="playground-ana-…", task_id="run-1")
    async for event in run_column(config, run):   # Started, then Chunk…, then Finished or Failed
        ...

One column is one stream from one provider config, recorded like any agent's call: agent `playground`,
the operator's session workflow (or one they named), and a task per run, shared by its columns. A column's
failure is an event, never an exception, so it cannot disturb the other columns. Stopping a column (the
consumer closes the generator, or its task is cancelled) closes the provider's stream: the ledger records
the call as cancelled with the tokens it had used.

Saved outputs and replays read the recorded call, never text from the browser: `save_call_as_artifact`,
`replay_source`, `replay_diff`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from asgiref.sync import sync_to_async

from artifacts.store import Artifact, get_artifact_store
from artifacts.store.artifact import MAX_ID_LENGTH
from artifacts.versions import artifact_diff
from llm.configured import wrap_config
from llm.models import CallStatus, LLMCall, ProviderConfig
from llm.providers import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfigError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMResponse,
    LLMTimeoutError,
)
from llm.recording import Attribution

log = logging.getLogger(__name__)

PLAYGROUND_AGENT = "playground"
MAX_PROMPT_CHARS = 100_000
MAX_OUTPUT_TOKENS = 200_000
SAVABLE_STATUSES = (CallStatus.OK, CallStatus.CACHED, CallStatus.CANCELLED)

_ERROR_TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (LLMAuthenticationError, "The provider refused the credentials"),
    (LLMRateLimitError, "Rate limited"),
    (LLMTimeoutError, "Timed out"),
    (LLMProviderUnavailableError, "Provider unavailable"),
    (LLMBadRequestError, "The provider refused the request"),
    (LLMConfigError, "The config is not usable"),
    (LLMError, "The provider failed"),
)


class PlaygroundError(ValueError):
    """A playground request that cannot be carried out; the message is a plain sentence for the operator."""


@dataclass(frozen=True, slots=True)
class PlaygroundRun:
    """What the operator asked for; None keeps the config's own temperature / max tokens."""

    prompt: str
    system: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    workflow_id: str = ""
    task_id: str = ""

    def overrides(self) -> dict[str, Any]:
        given = {"system": self.system or None, "temperature": self.temperature, "max_tokens": self.max_tokens}
        return {name: value for name, value in given.items() if value is not None}


# The events of one column, in order: Started, Chunk*, then Finished or Failed.


@dataclass(frozen=True, slots=True)
class Started:
    event: ClassVar[str] = "start"
    config: str
    provider: str
    model: str
    workflow_id: str
    task_id: str

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Chunk:
    event: ClassVar[str] = "chunk"
    text: str
    at: float
    """Wall-clock time (Unix seconds) when the provider's chunk reached the playground, before sending."""

    def data(self) -> dict[str, Any]:
        return {"text": self.text, "at": self.at}


@dataclass(frozen=True, slots=True)
class Spend:
    """What a call used, as the ledger recorded it."""

    call_id: int | None = None
    status: str = ""
    model: str = ""
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: str | None = None
    price_source: str = ""
    latency_ms: int | None = None
    time_to_first_token_ms: int | None = None

    @classmethod
    def of(cls, response: LLMResponse | None, *, started: float, first_chunk: float | None) -> Spend:
        if response is None:
            return cls(latency_ms=_ms_since(started))
        ledger = response.metadata.get("ledger") or {}
        return cls(
            call_id=ledger.get("call_id"),
            status=ledger.get("status", ""),
            model=response.model,
            finish_reason=response.finish_reason,
            prompt_tokens=response.usage.prompt_tokens,
            completion_tokens=response.usage.completion_tokens,
            total_tokens=response.usage.total_tokens,
            cost_usd=ledger.get("cost_usd"),
            price_source=ledger.get("price_source", ""),
            latency_ms=_ms_since(started),
            time_to_first_token_ms=None if first_chunk is None else round((first_chunk - started) * 1000),
        )

    def data(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "status": self.status,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
            },
            "cost_usd": self.cost_usd,
            "price_source": self.price_source,
            "latency_ms": self.latency_ms,
            "time_to_first_token_ms": self.time_to_first_token_ms,
        }


@dataclass(frozen=True, slots=True)
class Finished:
    event: ClassVar[str] = "done"
    spend: Spend

    def data(self) -> dict[str, Any]:
        return self.spend.data()


@dataclass(frozen=True, slots=True)
class Failed:
    event: ClassVar[str] = "error"
    error_class: str
    title: str
    message: str
    spend: Spend = field(default_factory=Spend)

    def data(self) -> dict[str, Any]:
        return {"error_class": self.error_class, "title": self.title, "message": self.message, **self.spend.data()}


PlaygroundEvent = Started | Chunk | Finished | Failed


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def failure(exc: BaseException, spend: Spend | None = None) -> Failed:
    """The Failed event for an error: a plain title and sentence; unexpected errors say only where to look."""
    spend = spend or Spend()
    for error_class, title in _ERROR_TITLES:
        if isinstance(exc, error_class):
            message = str(exc).strip() or title
            if isinstance(exc, LLMRateLimitError) and exc.retry_after:
                message = f"{message.rstrip('.')}. Try again in {exc.retry_after:.0f} s."
            return Failed(type(exc).__name__, title, message, spend)
    return Failed(
        type(exc).__name__,
        "Unexpected error",
        f"The run failed on the server ({type(exc).__name__}); the details are in the server log.",
        spend,
    )


async def run_column(config: ProviderConfig, run: PlaygroundRun) -> AsyncGenerator[PlaygroundEvent]:
    """Stream `run` from `config` as events; errors become a Failed event, closing early cancels the call."""
    yield Started(config.name, config.provider, config.model, run.workflow_id, run.task_id)
    try:
        provider = wrap_config(
            config,
            attribution=Attribution(agent_id=PLAYGROUND_AGENT, workflow_id=run.workflow_id, task_id=run.task_id),
        )
    except LLMError as exc:
        yield failure(exc)
        return
    started, first_chunk = time.perf_counter(), None
    stream = None
    outcome: Finished | Failed
    try:
        stream = provider.generate_stream(run.prompt, **run.overrides())
        async for text in stream:
            if not text:
                continue
            at = time.time()
            if first_chunk is None:
                first_chunk = time.perf_counter()
            yield Chunk(text, at)
        outcome = Finished(Spend.of(stream.response, started=started, first_chunk=first_chunk))
    except Exception as exc:
        if not isinstance(exc, LLMError):
            log.exception("A playground run on config %r failed", config.name)
        response = stream.response if stream is not None and stream.done else None
        outcome = failure(exc, Spend.of(response, started=started, first_chunk=first_chunk))
    finally:
        # Closed early (Stop, or the client went away): closing the stream records the call as cancelled.
        if stream is not None:
            await stream.aclose()
        await provider.aclose()
    yield outcome


# Saving an output, and replaying the prompt behind an artifact.


def _call_for_save(call_id: int) -> LLMCall:
    call = LLMCall.objects.filter(pk=call_id).first()
    if call is None:
        raise PlaygroundError(f"No recorded call has number {call_id}.")
    if call.agent_id != PLAYGROUND_AGENT:
        raise PlaygroundError(f"Call #{call_id} was not made in the playground; only playground output is saved here.")
    if call.status not in SAVABLE_STATUSES:
        raise PlaygroundError(f"Call #{call_id} failed ({call.error_class}); there is no output to save.")
    if not call.response:
        raise PlaygroundError(f"Call #{call_id} produced no text; there is nothing to save.")
    return call


def artifact_metadata(call: LLMCall) -> dict[str, Any]:
    """What an artifact saved from a call records about it (`llm_call_id` lets the artifact be replayed)."""
    return {
        "source": "playground",
        "llm_call_id": call.pk,
        "config": call.config_name,
        "provider": call.provider,
        "model": call.model,
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.total_tokens,
        "cost_usd": None if call.cost_usd is None else str(call.cost_usd),
        "call_status": call.status,
    }


async def save_call_as_artifact(
    *, call_id: int, artifact_type: str, workflow_id: str, task_id: str, agent_id: str = PLAYGROUND_AGENT
) -> Artifact:
    """Store the recorded output of playground call `call_id` as an artifact (InvalidArtifactError for bad ids)."""
    call = await sync_to_async(_call_for_save)(call_id)
    artifact = Artifact(
        workflow_id=workflow_id,
        task_id=task_id,
        agent_id=agent_id,
        artifact_type=artifact_type,
        content=call.response,
        metadata=artifact_metadata(call),
    )
    await get_artifact_store().save(artifact)
    return artifact


@dataclass(frozen=True, slots=True)
class ReplaySource:
    artifact: Artifact
    call: LLMCall


def replay_call_id(metadata: object) -> int | None:
    """The `llm_call_id` an artifact's metadata names, if it is a call number."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("llm_call_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


async def replay_source(artifact_id: str) -> ReplaySource:
    """The artifact and the recorded call that produced it; PlaygroundError says why there is none."""
    artifact = await get_artifact_store().get(artifact_id)
    if artifact is None:
        raise PlaygroundError(f"No artifact has id {artifact_id!r}.")
    call_id = replay_call_id(artifact.metadata)
    if call_id is None:
        raise PlaygroundError("This artifact's metadata names no LLM call (llm_call_id): there is no prompt to replay.")
    call = await LLMCall.objects.filter(pk=call_id).afirst()
    if call is None:
        raise PlaygroundError(f"Call #{call_id}, which produced this artifact, is no longer recorded.")
    return ReplaySource(artifact, call)


def replay_diff(stored: Artifact, call: LLMCall) -> str:
    """A unified diff from the stored artifact to a new call's output ('' when they are the same)."""
    new = Artifact(
        workflow_id=stored.workflow_id,
        task_id=stored.task_id,
        agent_id=PLAYGROUND_AGENT,
        artifact_type=stored.artifact_type,
        content=call.response,
        artifact_id=f"call #{call.pk} ({call.config_name or call.provider}/{call.model})"[:MAX_ID_LENGTH],
        created_at=call.created_at,
    )
    return artifact_diff(stored, new)
