"""Mask versions are append-only in the database too, as the signatures bound to them are: an
UPDATE or DELETE is refused whoever connects (``audit.triggers``)."""
from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, triggers.SIGNED_CONTENT_TABLES)


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection, triggers.SIGNED_CONTENT_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0002_result_decided_at_result_decided_by_and_more"),
        ("audit", "0004_keyed_chain"),
    ]

    operations = [migrations.RunPython(install, remove)]
