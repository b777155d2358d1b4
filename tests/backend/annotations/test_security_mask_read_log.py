"""Issue 20: a mask download is a read of patient data: chained (``mask.read``) every time, and
in the read log with the series and patient it concerns."""
import pytest

from audit.models import AuditEntry, ReadRecord

pytestmark = pytest.mark.django_db


def test_every_mask_download_is_chained_and_in_the_read_log(ai_result, api_as, users):
    client = api_as("annotator")
    for _ in range(2):
        assert client.get(f"/api/v1/annotations/results/{ai_result.pk}/mask").status_code == 200
    entries = AuditEntry.objects.filter(action="mask.read").order_by("seq")
    records = ReadRecord.objects.filter(what="mask").order_by("id")
    assert entries.count() == 2 and records.count() == 2
    for entry, record in zip(entries, records, strict=True):
        assert entry.new_values["read_record"] == record.pk
        assert entry.new_values["result"] == ai_result.pk
        assert record.chained and record.actor_id == users["annotator"].pk
        assert record.object_type == "annotations.maskversion"
        assert record.series_id == ai_result.series_id
        assert record.patient_id == ai_result.series.study.patient_id
        assert record.site_id == entry.site_id == ai_result.series.study.patient.site_id
