"""Property: whatever bytes of a real DICOM file are changed, an upload answers 201 or 400,
never 500, and leaves no half-written rows or orphan files."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imaging.models import Instance, Series, Study
from tests.backend.imaging.conftest import real_bytes

ORIGINAL = real_bytes("MR_small.dcm")


def mutations():
    edits = st.lists(
        st.tuples(st.integers(0, len(ORIGINAL) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
    cut = st.integers(0, len(ORIGINAL))
    return st.tuples(edits, st.one_of(st.none(), cut))


def mutate(edits, cut) -> bytes:
    data = bytearray(ORIGINAL)
    for position, byte in edits:
        data[position] = byte
    return bytes(data if cut is None else data[:cut])


def snapshot(media_root) -> tuple[int, int, int, int]:
    files = len(list(media_root.rglob("*.dcm"))) if media_root.exists() else 0
    return files, Instance.objects.count(), Series.objects.count(), Study.objects.count()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations())
def test_mutated_files_never_cause_a_server_error_or_partial_writes(upload, media_root, mutation):
    files, instances, series, studies = snapshot(media_root)
    response = upload({"mutated.dcm": mutate(*mutation)})
    assert response.status_code in (201, 400), response.content[:200]
    outcome = response.json()["files"][0]
    after = snapshot(media_root)
    if outcome["status"] == "imported":
        assert after[:2] == (files + 1, instances + 1)
        instance = Instance.objects.get(sop_instance_uid=outcome_uid(instance_count=after[1]))
        assert instance.file.storage.exists(instance.file.name)
    else:
        assert after == (files, instances, series, studies)
        if outcome["status"] == "rejected":
            assert outcome["reason"] and outcome["code"]
    for instance in Instance.objects.all():
        assert instance.file.storage.exists(instance.file.name)


def outcome_uid(instance_count: int) -> str:
    return Instance.objects.order_by("-id").values_list("sop_instance_uid", flat=True)[0]
