"""schemathesis against the running API's own OpenAPI schema, with a valid token: no 5xx, and every
response matches the schema (status codes, content types, bodies). Bounded so the suite stays fast.

Driven through schemathesis' Python API rather than its pytest plugin, which does not run on pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from artifacts.models import ArtifactRecord
from llm.models import LLMCall, ProviderConfig
from tests.factories import make_artifact, make_llm_call

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 30


def test_the_api_honours_its_schema(api_server, staff_token) -> None:
    # A few stored artifacts and calls, and the mock config the schema's example names, so reads, deletes
    # and generate also reach their 200/204 paths.
    for n in range(3):
        ArtifactRecord.from_artifact(make_artifact(artifact_id=f"art-{n}")).save(force_insert=True)
        make_llm_call()
    ProviderConfig.objects.get_or_create(name="mock", defaults={"provider": "mock", "model": "mock-model"})
    schema = schemathesis.openapi.from_url(f"{api_server.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {staff_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            # An opaque cursor cannot be described so that every schema-valid string is a real one,
            # so "schema-valid data must be accepted" is the one check left out.
            case.call_and_validate(base_url=api_server.url, headers=headers, excluded_checks=[positive_data_acceptance])

        check()

    # Generated bodies name no real config (a 404), so the answers from a real one are checked here.
    body = {"config": "mock", "prompt": "Write a haiku", "system": "Be brief", "max_tokens": 20, "stop": ["zz"]}
    for path in ("/api/llm/generate", "/api/llm/generate/stream"):
        case = schema[path]["POST"].Case(body={**body, "agent_id": "fuzz"})
        response = case.call_and_validate(base_url=api_server.url, headers=headers)
        assert response.status_code == 200
    assert LLMCall.objects.filter(agent_id="fuzz").count() == 2
