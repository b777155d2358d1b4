"""Issue 20 (cross-site upload oracle), step 1 of 2: each Study, Series and Instance records
its site, backfilled from the patient's site. The per-site unique constraints that replace the
global ones follow in 0004 (a separate transaction: PostgreSQL refuses to alter a table with
pending deferred-constraint events from the backfill)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Patient = apps.get_model("imaging", "Patient")
    Study = apps.get_model("imaging", "Study")
    Series = apps.get_model("imaging", "Series")
    Instance = apps.get_model("imaging", "Instance")
    Study.objects.update(
        site_id=Subquery(Patient.objects.filter(pk=OuterRef("patient_id")).values("site_id")[:1])
    )
    Series.objects.update(
        site_id=Subquery(Study.objects.filter(pk=OuterRef("study_id")).values("site_id")[:1])
    )
    Instance.objects.update(
        site_id=Subquery(Series.objects.filter(pk=OuterRef("series_id")).values("site_id")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("imaging", "0002_series_orientation_established"),
    ]

    operations = [
        migrations.AddField(
            model_name="study",
            name="site",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="studies", to="accounts.site"),
        ),
        migrations.AddField(
            model_name="series",
            name="site",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="series", to="accounts.site"),
        ),
        migrations.AddField(
            model_name="instance",
            name="site",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="instances", to="accounts.site"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
