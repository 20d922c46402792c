from __future__ import annotations

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand

from agents.models import WorkflowRun
from agents.runs import create_workflow_run, execute_workflow_run

DEMO_SPECIFICATIONS = (
    "An order-totals module: line items, percentage discounts, and tax rounded to cents.",
    "A rate limiter for an HTTP API: a token bucket per client with a burst allowance.",
    "A CSV importer for customer records that validates e-mail addresses and reports bad rows.",
)


class Command(BaseCommand):
    help = "Run a few demo workflows with the mock provider, once (skipped when any workflow run exists)."

    def handle(self, *args, **options) -> None:
        if WorkflowRun.objects.exists():
            return
        for specification in DEMO_SPECIFICATIONS:
            run = create_workflow_run(specification=specification, provider_name="mock")
            run = async_to_sync(execute_workflow_run)(run.pk)
            self.stdout.write(f"Demo workflow {run.workflow_id}: {run.status}, {run.completed_steps} artifacts")
