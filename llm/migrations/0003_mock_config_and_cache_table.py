"""A `mock` provider config out of the box (free: prices overridden to 0), and the cache table.

The database cache's table is made here so that `migrate` is all a fresh checkout needs; with
REDIS_URL set there is no table to make. After switching CACHES to the database later, run
`manage.py createcachetable`.
"""

from decimal import Decimal

from django.core.management import call_command
from django.db import migrations


def create_mock_config(apps, schema_editor):
    ProviderConfig = apps.get_model("llm", "ProviderConfig")
    ProviderConfig.objects.using(schema_editor.connection.alias).get_or_create(
        name="mock",
        defaults={
            "provider": "mock",
            "model": "mock-model",
            "input_price_per_million": Decimal(0),
            "output_price_per_million": Decimal(0),
        },
    )


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("llm", "0002_usage_rollup_trigger")]

    operations = [
        migrations.RunPython(create_mock_config, migrations.RunPython.noop),
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
    ]
