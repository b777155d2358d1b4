"""``flush`` that knows the audit tables are append-only.

Django's own flush empties every table, which the audit triggers refuse. This one refuses
up front with a clear message, except where the settings say the database is disposable
(``AUDIT_TRAIL_FLUSHABLE``, the test settings only: the test runner flushes between
transactional tests). There it lifts the triggers for the flush and puts them back.
"""
from django.conf import settings
from django.core.management import CommandError
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        if not getattr(settings, "AUDIT_TRAIL_FLUSHABLE", False):
            raise CommandError(
                "The audit trail is append-only (21 CFR Part 11) and cannot be flushed. "
                "Use a fresh database instead."
            )
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        triggers.remove(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.install(connection)
