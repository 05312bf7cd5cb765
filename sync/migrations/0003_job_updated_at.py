import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_worker_heartbeat_and_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True,
                default=django.utils.timezone.now,
                help_text="The job's last sign of life: queued, taken by a worker, progress, finished.",
            ),
            preserve_default=False,
        ),
    ]
