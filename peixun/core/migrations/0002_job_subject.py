from django.conf import settings
from django.db import migrations, models

# Jobs started before this migration name their object in their params.
SUBJECTS = {
    "credits.standings": ("credits.policy", "policy_id"),
    "enrollment.allocation": ("enrollment.allocationrun", "run_id"),
}


def attach_subjects(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    for kind, (label, key) in SUBJECTS.items():
        for job in Job.objects.filter(kind=kind).only("pk", "params"):
            value = (job.params or {}).get(key)
            if isinstance(value, int):
                Job.objects.filter(pk=job.pk).update(subject_type=label, subject_id=value)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="subject_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="subject_type",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["subject_type", "subject_id"], name="job_subject"),
        ),
        migrations.RunPython(attach_subjects, migrations.RunPython.noop),
    ]
