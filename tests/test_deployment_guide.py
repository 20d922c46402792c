"""docs/deployment.md is exercised: its two environments boot, pass `check --deploy`, and give the settings
it describes; every environment variable it names is read by the code and documented in the README."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from conductor_site.local_servers import database_url
from tests.processes import ROOT, base_env, run_manage

GUIDE = (ROOT / "docs" / "deployment.md").read_text()
README = (ROOT / "README.md").read_text()
CODE = "\n".join(
    path.read_text() for app in ("conductor_site", "artifacts", "llm", "agents") for path in (ROOT / app).rglob("*.py")
)

PLACEHOLDERS = {
    "<secret-key>": secrets.token_urlsafe(50),
    "<fernet-key>": Fernet.generate_key().decode(),
    "<db-password>": "db-password",
    "<s3-access-key>": "access-key",
    "<s3-secret-key>": "secret-key",
}

# Run in the configured process: the deployment checks, then the settings the guide talks about, as JSON.
SETTINGS_REPORT = """
import json
from django.conf import settings
from django.core.management import call_command
from psycopg_pool import ConnectionPool
from artifacts.store.content import ContentPolicy

call_command("check", deploy=True, fail_level="WARNING")
db = settings.DATABASES["default"]
pool = db["OPTIONS"]["pool"]
policy = ContentPolicy.from_settings()
storage = policy.object_storage
print("REPORT" + json.dumps({
    "debug": settings.DEBUG,
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"]["LOCATION"],
    "db": [db["HOST"], str(db["PORT"]), db["NAME"], db["USER"]],
    "pool": [pool["min_size"], pool["max_size"], pool["timeout"]],
    "pool_checks_connections": pool["check"] == ConnectionPool.check_connection,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "bucket": storage and [storage.bucket, storage.endpoint_url],
    "object_min_bytes": policy.object_min_bytes,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "hosts": [settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS],
    "log_handler_formatter": settings.LOGGING["handlers"]["console"]["formatter"],
    "data_dir": str(settings.DATA_DIR),
}))
"""


def guide_environment(title: str) -> dict[str, str]:
    """The ```env block of the guide whose first line is `# <title>`, placeholders filled in."""
    for block in re.findall(r"```env\n(.*?)```", GUIDE, re.DOTALL):
        lines = block.strip().splitlines()
        if lines[0] == f"# {title}":
            text = "\n".join(lines[1:])
            for placeholder, value in PLACEHOLDERS.items():
                text = text.replace(placeholder, value)
            assert "<" not in text, f"an unknown placeholder in the {title} environment"
            return dict(line.split("=", 1) for line in text.splitlines() if line.strip())
    raise AssertionError(f"docs/deployment.md has no ```env block titled '# {title}'")


def settings_with(env: dict[str, str]) -> dict:
    result = run_manage("shell", "-c", SETTINGS_REPORT, env=base_env(**env))
    return json.loads(result.stdout.split("REPORT", 1)[1])


def test_the_one_machine_environment_passes_the_deployment_checks() -> None:
    env = guide_environment("one machine")
    # The embedded server the tests already use, rather than a new one in /var/lib/conductor.
    env["CONDUCTOR_DATA_DIR"] = str(settings.DATA_DIR)
    report = settings_with(env)

    assert report["debug"] is False
    assert report["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert report["bucket"] is None  # content stays in PostgreSQL
    assert report["db"][2] == "postgres" and report["db"][0].startswith(str(settings.DATA_DIR))
    assert report["pool_checks_connections"]
    assert report["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert report["secure_cookies"] == [True, True]
    assert report["hosts"] == [["conductor.example.com"], ["https://conductor.example.com"]]
    assert report["log_handler_formatter"] == "json"


def test_the_scale_out_environment_uses_the_external_services_it_names() -> None:
    env = guide_environment("scale-out")
    assert env["DATABASE_URL"].startswith("postgres://conductor:db-password@db.internal:5432/conductor")
    # Django's checks ask the server for its version, so the database must answer: the one the tests use
    # stands in for db.internal. Redis and the bucket are not contacted by the checks.
    env["DATABASE_URL"] = database_url(settings.DATABASES["default"])
    report = settings_with(env)

    assert report["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert report["cache_location"] == env["REDIS_URL"]
    assert report["db"][2] == settings.DATABASES["default"]["NAME"]
    assert report["pool"] == [int(env["DATABASE_POOL_MIN"]), int(env["DATABASE_POOL_MAX"]), 5]
    assert report["pool_checks_connections"]
    assert report["bucket"] == [env["CONDUCTOR_S3_BUCKET"], env["CONDUCTOR_S3_ENDPOINT_URL"]]
    assert report["object_min_bytes"] == int(env["CONDUCTOR_OBJECT_STORAGE_MIN_BYTES"])
    assert report["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert report["secure_cookies"] == [True, True]
    assert report["log_handler_formatter"] == "json"


def guide_variable_names() -> set[str]:
    in_blocks = re.findall(r"^([A-Z][A-Z0-9_]*)=", "\n".join(re.findall(r"```env\n(.*?)```", GUIDE, re.DOTALL)), re.M)
    in_text = re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+|DEBUG)`", GUIDE)
    return set(in_blocks) | set(in_text)


@pytest.mark.parametrize("name", sorted(guide_variable_names()))
def test_every_variable_the_guide_names_is_read_by_the_code_and_in_the_readme(name: str) -> None:
    read_as = name.removesuffix("_FILE")  # NAME_FILE is read by envsecret("NAME")
    assert f'"{read_as}"' in CODE, f"{name} is not read anywhere"
    assert f"`{read_as}" in README, f"{name} is not in the README's configuration table"
