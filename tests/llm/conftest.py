"""Fixtures for the provider tests: fake vendor servers (see vendor_servers.py) and a registry left as found."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llm.providers import factory
from tests.llm.vendor_servers import FakeAnthropicServer, FakeOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake OpenAI chat-completions server on 127.0.0.1, fresh for each test."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    """A fake Anthropic Messages server on 127.0.0.1, fresh for each test."""
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def provider_registry() -> Iterator[None]:
    """Registrations made by the test are undone afterwards."""
    saved = dict(factory._registry)
    yield
    factory._registry.clear()
    factory._registry.update(saved)
