"""Writers in parallel, each in its own database connection and transaction, still make one
gapless, valid chain: the chain head row serialises them (row lock on PostgreSQL, immediate
transactions on SQLite)."""
import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEntry, Signature
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from audit.verify import verify_chain
from tests.conftest import PASSWORD

WRITERS = 8
EACH = 15


def run_in_parallel(work, count: int) -> list[BaseException]:
    """Start ``count`` threads together on ``work(index)``; return what they raised."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def thread(index: int):
        try:
            start.wait()
            work(index)
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_valid_chain():
    def write(index: int):
        for n in range(EACH):
            with transaction.atomic():
                record_event(action="test.parallel", object_id=f"{index}-{n}", new={"n": n})

    assert run_in_parallel(write, WRITERS) == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))
    written = set(AuditEntry.objects.values_list("object_id", flat=True))
    assert written == {f"{i}-{n}" for i in range(WRITERS) for n in range(EACH)}
    report = verify_chain()
    assert report.intact, report.message
    assert report.count == WRITERS * EACH


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_rolls_back_leaves_no_gap(users, sites):
    """Half the writers fail after writing their entry; their entries vanish with their
    change and the others' entries still chain without a hole."""

    def write(index: int):
        for n in range(EACH):
            try:
                with transaction.atomic():
                    record_event(action="test.change", object_id=f"{index}-{n}")
                    if index % 2:
                        raise RuntimeError("the change failed")
            except RuntimeError:
                pass

    assert run_in_parallel(write, WRITERS) == []
    assert AuditEntry.objects.filter(action="test.change").count() == WRITERS // 2 * EACH
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
def test_parallel_signers_each_get_one_signature_and_entry(users, sites):
    signers = [users["annotator"], users["annotator_member"], users["reviewer"],
               users["reviewer_member"]]

    def sign(index: int):
        do_sign(signers[index], PASSWORD, sites["home"], content_sha256(b"mask"), "confirmed")

    assert run_in_parallel(sign, len(signers)) == []
    assert Signature.objects.count() == len(signers)
    assert AuditEntry.objects.filter(action="signature.sign").count() == len(signers)
    assert verify_chain().intact
