"""PostgreSQL restarts while clients post artifacts through the API: every acknowledged artifact is stored,
every other request fails cleanly (a JSON 503 or a refused connection, never an HTML 500), and the server
recovers by itself — its connection pool throws the dead connections away."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
import psycopg

from tests.processes import run_manage, wait_until

CLIENTS = 4


@dataclass
class Outcome:
    artifact_id: str
    status: int | None = None  # None: the request failed in transport
    content_type: str = ""
    body: str = ""
    error: str = ""
    sent_at: float = field(default_factory=time.monotonic)


def artifact(artifact_id: str) -> dict:
    return {
        "artifact_id": artifact_id,
        "workflow_id": "wf-restart",
        "task_id": "task-1",
        "agent_id": "coder",
        "artifact_type": "code",
        "content": f"print({artifact_id!r})\n",
    }


def post_until(stop: threading.Event, url: str, token: str, client_no: int, outcomes: list[Outcome]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=15) as client:
        n = 0
        while not stop.is_set():
            outcome = Outcome(artifact_id=f"art-restart-{client_no}-{n}")
            n += 1
            try:
                response = client.post("/api/artifacts", json=artifact(outcome.artifact_id))
            except httpx.TransportError as exc:
                outcome.error = type(exc).__name__
                time.sleep(0.05)
            else:
                outcome.status = response.status_code
                outcome.content_type = response.headers.get("content-type", "")
                outcome.body = response.text[:300]
            outcomes.append(outcome)


def health(url: str) -> int | None:
    try:
        return httpx.get(f"{url}/health/", timeout=10).status_code
    except httpx.TransportError:
        return None


def test_a_database_restart_loses_no_acknowledged_artifact_and_the_server_recovers(
    own_postgres, app_env, start_server, tmp_path
) -> None:
    app_env["DATABASE_POOL_TIMEOUT"] = "2"  # a request waits this long for a connection while the database is down
    token = run_manage(
        "shell",
        "-c",
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from django.contrib.auth import get_user_model; from conductor_site.models import api_token_issue;"
        "print(api_token_issue(user=get_user_model().objects.create_user('ingest'), name='t')[1])",
        env=app_env,
    ).stdout.split()[-1]
    server = start_server(app_env, "--workers", "2", "--collectstatic", log_path=tmp_path / "server.log")

    stop, outcomes = threading.Event(), []
    clients = [threading.Thread(target=post_until, args=(stop, server.url, token, n, outcomes)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(1.5)
        own_postgres.stop()
        stopped_at = time.monotonic()
        assert health(server.url) == 503  # while the database is down, the health check says so
        time.sleep(max(0.0, 2.5 - (time.monotonic() - stopped_at)))
        own_postgres.start()
        restarted_at = time.monotonic()
        wait_until(lambda: health(server.url) == 200, timeout=15, what="the health check to recover")
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=30)

    with psycopg.connect(own_postgres.url) as conn:
        stored = {row[0] for row in conn.execute("SELECT artifact_id FROM artifacts_artifact")}
    acknowledged = {o.artifact_id for o in outcomes if o.status == 201}
    failed = [o for o in outcomes if o.status != 201]
    assert acknowledged - stored == set(), "acknowledged artifacts are missing"
    assert failed, "no request failed: the database restart was not noticed"
    for outcome in failed:
        json_503 = outcome.status == 503 and outcome.content_type.startswith("application/json")
        assert (json_503 and '"detail"' in outcome.body) or outcome.error, outcome
    # The server recovered on its own: requests sent after the health check was green again all succeeded.
    after = [o for o in outcomes if o.sent_at > restarted_at + 1 and o.status is not None]
    assert after and all(o.status == 201 for o in after), [o for o in after if o.status != 201][:3]
    assert server.process.poll() is None  # never restarted
