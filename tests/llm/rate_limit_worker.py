"""A separate process calling one provider config, for the cross-process rate-limit test.

    python tests/llm/rate_limit_worker.py DATABASE_NAME CONFIG_NAME CALLS START_AT

Waits until START_AT (a Unix time) so the processes start together, makes CALLS concurrent calls,
and prints one JSON line: how many succeeded and how many got the rate-limit error.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")


def main(database: str, config_name: str, calls: int, start_at: float) -> None:
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database  # the test database, before any connection
    django.setup()

    from llm.configured import aprovider_for
    from llm.providers import LLMRateLimitError

    async def run() -> dict[str, int]:
        provider = await aprovider_for(config_name, agent_id=f"worker-{os.getpid()}")
        await asyncio.sleep(max(0.0, start_at - time.time()))
        results = await asyncio.gather(
            *(provider.generate(f"call {n} from {os.getpid()}") for n in range(calls)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, LLMRateLimitError):
                raise result
        limited = sum(isinstance(result, LLMRateLimitError) for result in results)
        return {"ok": calls - limited, "limited": limited}

    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
