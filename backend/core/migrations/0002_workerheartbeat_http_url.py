from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="workerheartbeat",
            name="http_url",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
