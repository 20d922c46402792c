"""Provider-specific options on a config; the out-of-the-box `mock` streams at a pace a person can watch."""

from django.db import migrations, models

MOCK_STREAM_DELAY_SECONDS = 0.02


def pace_the_mock(apps, schema_editor):
    ProviderConfig = apps.get_model("llm", "ProviderConfig")
    ProviderConfig.objects.using(schema_editor.connection.alias).filter(name="mock", provider="mock", options={}).update(
        options={"stream_delay_seconds": MOCK_STREAM_DELAY_SECONDS}
    )


class Migration(migrations.Migration):
    dependencies = [("llm", "0003_mock_config_and_cache_table")]

    operations = [
        migrations.AddField(
            model_name="providerconfig",
            name="options",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Provider-specific settings as a JSON object, e.g. {"stream_delay_seconds": 0.05} for the mock.',
            ),
        ),
        migrations.RunPython(pace_the_mock, migrations.RunPython.noop),
    ]
