"""Issue 20: the result page names the patient, so opening it is a read of patient data and is
audited like every other (``imaging.read``, on the result, by the user)."""
import pytest

from audit.models import AuditEntry, ReadRecord

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["annotator", "reviewer", "auditor", "site_admin"])
def test_opening_the_result_page_records_a_patient_data_read(ai_result, browser_as, users,
                                                             role):
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    page = browser_as(role).get(f"/annotations/results/{ai_result.pk}/")
    assert page.status_code == 200
    assert "HEAD-1" in page.content.decode()  # the patient is on the page
    reads = AuditEntry.objects.filter(action="imaging.read", object_type="annotations.result",
                                      object_id=str(ai_result.pk))
    # The record itself, and (for the SEG exportability line) the headers of its series.
    new = AuditEntry.objects.filter(action="imaging.read", seq__gt=before)
    assert set(new.values_list("object_type", flat=True)) <= {"annotations.result",
                                                              "imaging.series"}
    entry = reads.get()
    assert entry.actor_id == users[role].pk
    # The read log holds the same read; the chained entry names its record.
    record = ReadRecord.objects.get(object_type="annotations.result", object_id=str(ai_result.pk))
    assert record.chained and record.actor_id == users[role].pk
    assert entry.new_values == {"what": "result record", "read_record": record.pk}


def test_a_refused_page_records_no_read(ai_result, browser_as):
    page = browser_as("annotator_outsider").get(f"/annotations/results/{ai_result.pk}/")
    assert page.status_code == 404
    assert not AuditEntry.objects.filter(action="imaging.read",
                                         object_type="annotations.result").exists()
