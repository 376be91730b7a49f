from django.db import migrations, models


def active_is_ready(apps, schema_editor):
    # Until now every activation rebuilt CycleTotal before it committed: the active policy's is complete.
    apps.get_model("credits", "Policy").objects.filter(status="active").update(cycle_totals_ready=True)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0005_teacher_standing"),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="cycle_totals_ready",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(active_is_ready, migrations.RunPython.noop),
    ]
