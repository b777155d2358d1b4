"""Nobody changes or removes an audit entry or a signature: not the ORM, not raw SQL."""
import pytest
from django.db import IntegrityError, connection, transaction

from audit.models import AppendOnlyError, AuditEntry, Signature
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from tests.conftest import PASSWORD


@pytest.fixture
def entry(db):
    return record_event(action="test.original", reason="as written")


@pytest.fixture
def signature(users, sites):
    return do_sign(users["annotator"], PASSWORD, sites["home"], content_sha256(b"mask"),
                   "confirmed")


def test_the_orm_refuses_to_save_a_changed_entry(entry):
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "as written"


def test_the_orm_refuses_to_delete_an_entry(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    assert AuditEntry.objects.filter(pk=entry.pk, reason="as written").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET reason = 'rewritten'",
        "DELETE FROM audit_auditentry",
        "UPDATE audit_signature SET meaning = 'rejected'",
        "DELETE FROM audit_signature",
    ],
)
def test_the_database_refuses_raw_sql_edits(entry, signature, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.filter(pk=entry.pk, reason="as written").exists()
    assert Signature.objects.get(pk=signature.pk).meaning == "confirmed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["audit_auditentry", "audit_signature"])
def test_postgresql_refuses_truncate(users, sites, table):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has only DELETE, refused above")
    do_sign(users["annotator"], PASSWORD, sites["home"], content_sha256(b"m"), "confirmed")
    with pytest.raises(IntegrityError, match="append-only: TRUNCATE"):
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert Signature.objects.count() == 1


def test_the_orm_refuses_to_change_a_signature(signature):
    signature.meaning = "rejected"
    with pytest.raises(AppendOnlyError):
        signature.save()
    with pytest.raises(AppendOnlyError):
        signature.delete()


def test_a_signer_cannot_be_deleted(signature, users):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError), transaction.atomic():
        users["annotator"].delete()
    assert Signature.objects.filter(pk=signature.pk).exists()


def test_flush_refuses_unless_the_settings_say_the_database_is_disposable(entry, settings):
    from django.core.management import CommandError, call_command

    settings.AUDIT_TRAIL_FLUSHABLE = False
    with pytest.raises(CommandError, match="append-only"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
