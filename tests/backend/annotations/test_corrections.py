"""Correcting an AI draft in one action through the API: who may, what is refused and why,
and a real worker re-segmenting only the affected run of slices into a new mask version."""
import numpy as np
import pytest

from annotations import masks
from annotations.confirmation import do_save_edit
from annotations.models import Job, JobStatus, MaskVersion, Result
from audit.models import AuditEntry
from tests.worker import wait_until

BOX = [95.0, 105.0, 145.0, 135.0]  # inside the stored draft's box mask on a 256x256 slice


def post(client, result, **body):
    body = {"base_version": 1, "slice": 1, "box": BOX, **body}
    body = {k: v for k, v in body.items() if v is not None}
    return client.post(f"/api/v1/annotations/results/{result.pk}/corrections", body,
                       format="json")


@pytest.mark.django_db
def test_the_owner_queues_a_correction_of_the_latest_version(api_as, ai_result):
    client = api_as("annotator")
    response = post(client, ai_result, points=[[120, 120, 1], [100, 110, 0]])
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["corrects"] == ai_result.pk
    assert body["base_version"] == 1 and body["mask_version"] is None
    assert body["geometry"] == {"prompts": [{"slice": 1, "box": BOX,
                                             "points": [[120.0, 120.0, 1], [100.0, 110.0, 0]]}]}
    job = Job.objects.get(public_id=body["id"])
    assert job.engine == ai_result.provenance["engine"] and job.prompt_version == (
        ai_result.prompt_version)
    entry = AuditEntry.objects.get(action="job.submit", object_id=str(job.pk))
    assert entry.new_values["corrects"] == ai_result.pk
    # The same correction again is the same job, not a second one.
    again = post(client, ai_result, points=[[120, 120, 1], [100, 110, 0]])
    assert again.status_code == 200 and again.json()["id"] == body["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("body, field, message", [
    ({"box": [95, 105, 145]}, "box", "at least 4"),
    ({"box": ["a", 1, 2, 3]}, "box", "valid number"),
    ({"box": [145, 105, 95, 135]}, "geometry", "x0 <= x1"),
    ({"box": [95, 105, 300, 135]}, "geometry", "x0 <= x1"),
    ({"slice": 3}, "geometry", "out of range"),
    ({"slice": -1}, "slice", "greater than or equal"),
    ({"points": [[120, 120, 2]]}, "geometry", "labels"),
    ({"points": [[120, 120]]}, "points", ""),
    ({"base_version": 0}, "base_version", "greater than or equal"),
    ({"boxes": [BOX, BOX]}, "box", "either box or boxes"),
    ({"box": None, "boxes": [BOX] * 4}, "boxes", "no more than 3"),
    ({"box": None, "boxes": [BOX, BOX], "points": [[120, 120, 1]]}, "geometry", "one box"),
])
def test_a_malformed_correction_is_refused_with_what_is_wrong(api_as, ai_result, body, field,
                                                              message):
    response = post(api_as("annotator"), ai_result, **body)
    assert response.status_code == 400, response.json()
    errors = response.json()
    assert field in errors, errors
    assert message in str(errors[field])
    assert not Job.objects.filter(corrects=ai_result).exists()


@pytest.mark.django_db
def test_only_the_owner_corrects_and_only_the_latest_unconfirmed_version(
        api_as, ai_result, users):
    assert post(api_as("annotator_member"), ai_result).status_code == 403
    assert post(api_as("reviewer"), ai_result).status_code == 403
    assert post(api_as("site_admin"), ai_result).status_code == 403
    assert post(api_as("annotator_outsider"), ai_result).status_code == 404
    mask = masks.decode(bytes(ai_result.latest_mask().data), (3, 256, 256)).copy()
    mask[0] = 0
    do_save_edit(users["annotator"], ai_result, 1, mask, "cleared slice 1")
    stale = post(api_as("annotator"), ai_result, base_version=1)
    assert stale.status_code == 409 and "not the latest" in str(stale.json())
    assert not Job.objects.filter(corrects=ai_result).exists()


@pytest.mark.django_db
def test_a_draft_made_with_a_retired_protocol_is_not_corrected_with_it(api_as, ai_result):
    from prompts.models import PromptVersion, VersionState

    PromptVersion.objects.filter(pk=ai_result.prompt_version_id).update(
        state=VersionState.RETIRED)
    response = post(api_as("annotator"), ai_result)
    assert response.status_code == 409 and "retired" in str(response.json())


@pytest.mark.django_db(transaction=True)
def test_a_worker_re_segments_only_the_affected_slices_into_a_new_version(
        api_as, library, make_head_series, celery_worker, head_ct, users):
    """A draft of the brain on 10 slices whose upper half is missing (as a propagation that
    stopped half-way): a box on a missing slice completes it; the slices below stay as they
    were, bit for bit."""
    from django.db import transaction

    from annotations.actions import do_submit_job
    from tests.backend.annotations.conftest import FIRST_SLICE, store_draft
    from tests.model.head_ct import box_of, brain_mask

    series, box, key = make_head_series(10)
    truth = np.stack([brain_mask(head_ct.hu[FIRST_SLICE + i]) for i in range(10)])
    with transaction.atomic():  # stored before the job's message goes out to the worker
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": key, "box": box}]})
        result = store_draft(job, 10)
    draft = truth.astype(np.uint8)
    draft[7:] = 0
    base = do_save_edit(users["annotator"], result, 1, draft, "the upper slices were missed")
    client = api_as("annotator")
    corrected_box = [float(v) for v in box_of(truth[8])]
    response = post(client, result, base_version=base.number, slice=8, box=corrected_box)
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]

    done = wait_until(lambda: (j := Job.objects.get(public_id=job_id)).finished and j,
                      timeout=300, interval=0.5)
    assert done.status == JobStatus.SUCCEEDED, done.error
    body = client.get(f"/api/v1/annotations/jobs/{job_id}").json()
    assert body["result"] == result.pk and body["mask_version"] == base.number + 1

    version = MaskVersion.objects.get(result=result, number=base.number + 1)
    corrected = masks.decode(bytes(version.data), tuple(version.shape))
    first, last = version.provenance["slices"]
    assert first <= 8 <= last and first >= 7  # slice 6 agreed with the draft: not touched
    np.testing.assert_array_equal(corrected[:first], draft[:first])
    for index in (7, 8, 9):
        assert masks.dice(corrected[index], truth[index]) > 0.8, index
    assert version.job_id == done.pk and version.created_by == users["annotator"]
    assert version.note.startswith("AI correction from slice 9")
    assert version.provenance["engine"] == "litemedsam"
    assert version.provenance["corrects"] == {"result": result.pk, "version": base.number}
    assert version.provenance["prompts"] == [{"slice": 8, "box": corrected_box}]
    assert Result.objects.get(pk=result.pk).state == "edited"
    entry = AuditEntry.objects.get(action="mask.correct", object_id=str(version.pk))
    assert entry.old_values["version"] == base.number
    assert entry.new_values["slices"] == [first, last]
    listed = client.get(f"/api/v1/annotations/results/{result.pk}").json()["mask_versions"]
    assert listed[-1]["job"] == job_id and listed[-1]["provenance"]["slices"] == [first, last]


@pytest.mark.django_db
def test_a_correction_whose_draft_changed_meanwhile_fails_and_stores_nothing(
        api_as, ai_result, users):
    from django.db import transaction

    from annotations.actions import do_claim_job
    from annotations.corrections import DraftChanged, do_submit_correction, store_correction

    with transaction.atomic():
        job, _ = do_submit_correction(users["annotator"], ai_result, 1, 1, [BOX])
        job = do_claim_job(job.pk, "test-worker@localhost")
    mask = masks.decode(bytes(ai_result.latest_mask().data), (3, 256, 256)).copy()
    mask[2] = 0
    do_save_edit(users["annotator"], ai_result, 1, mask, "edited while the correction ran")
    corrected = mask.copy()
    corrected[1, 100:110, 100:110] = 0
    with pytest.raises(DraftChanged, match="changed while the correction ran"):
        store_correction(job, corrected, masks.stats(corrected, (1.5, 1.0, 1.0)),
                         {"slices": [1, 1], "engine": "litemedsam", "weights_sha256": "ab",
                          "code_version": "test"})
    assert ai_result.mask_versions.count() == 2
