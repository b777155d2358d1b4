"""Issue 20 (cross-site upload oracle), step 2 of 2: the site is required, and Study,
Series and SOP Instance UIDs are unique per site instead of globally."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("imaging", "0003_site_on_images"),
    ]

    operations = [
        migrations.AlterField(
            model_name="study",
            name="site",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="studies", to="accounts.site"),
        ),
        migrations.AlterField(
            model_name="series",
            name="site",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="series", to="accounts.site"),
        ),
        migrations.AlterField(
            model_name="instance",
            name="site",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="instances", to="accounts.site"),
        ),
        migrations.AlterField(
            model_name="study",
            name="study_instance_uid",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="series",
            name="series_instance_uid",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="instance",
            name="sop_instance_uid",
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name="study",
            constraint=models.UniqueConstraint(fields=("site", "study_instance_uid"),
                                               name="imaging_study_uid_unique_per_site"),
        ),
        migrations.AddConstraint(
            model_name="series",
            constraint=models.UniqueConstraint(fields=("site", "series_instance_uid"),
                                               name="imaging_series_uid_unique_per_site"),
        ),
        migrations.AddConstraint(
            model_name="instance",
            constraint=models.UniqueConstraint(fields=("site", "sop_instance_uid"),
                                               name="imaging_instance_uid_unique_per_site"),
        ),
    ]
