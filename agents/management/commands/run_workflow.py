from __future__ import annotations

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError

from agents.runs import WorkflowRunError, create_workflow_run, execute_workflow_run


class Command(BaseCommand):
    help = "Run the seven-agent pipeline (code → tests → test data → review → CI → deployment → monitoring)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("specification", help="What to build, in plain words.")
        parser.add_argument("--provider", default="mock", help="Name of a provider config (default: mock).")

    def handle(self, *args, specification: str, provider: str, **options) -> None:
        try:
            run = create_workflow_run(specification=specification, provider_name=provider)
        except WorkflowRunError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Workflow {run.workflow_id} with provider {provider!r}")
        run = async_to_sync(execute_workflow_run)(run.pk)
        for step in run.steps:
            line = f"  {step['status']:<9} {step['agent_id']:<16} {step.get('artifact_id') or ''}"
            if step.get("error"):
                line += f"  {step['error']}"
            self.stdout.write(line)
        if run.status == run.Status.FAILED:
            raise CommandError(f"Workflow {run.workflow_id} failed: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"Workflow {run.workflow_id} succeeded."))
