from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, triggers.AUDIT_TABLES)


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection, triggers.AUDIT_TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_signature")]

    operations = [migrations.RunPython(install, remove)]
