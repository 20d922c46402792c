from __future__ import annotations

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from artifacts.expiry import purge_expired_artifacts


class Command(BaseCommand):
    help = "Delete expired artifacts (and their content in object storage) from the configured store, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=settings.CONDUCTOR_PURGE_BATCH_SIZE,
            help="Artifacts deleted per transaction (default: CONDUCTOR_PURGE_BATCH_SIZE).",
        )

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        purged = async_to_sync(purge_expired_artifacts)(batch_size=batch_size)
        self.stdout.write(f"Purged {purged} expired artifact{'s' if purged != 1 else ''}.")
