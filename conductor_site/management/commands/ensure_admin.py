"""Create the first admin account, once, and print its password once."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an admin account if no superuser exists, printing its generated password once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        banner = "=" * 64
        self.stdout.write(
            f"{banner}\nCreated the admin account — this password is shown only once:\n"
            f"  username: {username}\n  password: {password}\n"
            f"Change it in the admin (/admin/password_change/) or with "
            f"`manage.py changepassword {username}`.\n{banner}"
        )
