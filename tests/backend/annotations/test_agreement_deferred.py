"""The prompt-agreement check runs after the result is stored (issue 18/23: it took 0.23 s of a
0.31 s cached 2D job): the annotator gets the mask first, the check's outcome is recorded on the
result afterwards, once, audited, and no result is confirmed before it is known."""
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from annotations import agreement
from annotations.models import Job, Result
from audit.models import AuditEntry, Signature
from tests.backend.annotations.conftest import store_draft
from tests.backend.annotations.test_job_worker import finished, submit
from tests.conftest import PASSWORD
from tests.worker import wait_until


class Outcome:
    def __init__(self, mean, flagged):
        self.mean, self.flagged = mean, flagged


def pending(result):
    Result.objects.filter(pk=result.pk).update(agreement_pending=True)
    result.refresh_from_db()
    return result


def confirm(client, result):
    return client.post(f"/api/v1/annotations/results/{result.pk}/confirm",
                       {"version": 1, "password": PASSWORD}, format="json")


@pytest.mark.django_db
def test_a_result_is_not_confirmed_while_its_check_is_pending(api_as, ai_result):
    result = pending(ai_result)
    client = api_as("annotator")
    assert client.get(f"/api/v1/annotations/results/{result.pk}").json()["agreement_pending"]

    refused = confirm(client, result)
    assert refused.status_code == 409, refused.content
    assert "still running" in refused.json()["agreement"][0]
    result.refresh_from_db()
    assert result.state == "ai_draft"
    assert not Signature.objects.exists()
    assert not AuditEntry.objects.filter(action="result.confirm").exists()

    agreement.record(result.pk, Outcome(0.93, False), seconds=0.05)
    accepted = confirm(client, result)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "confirmed"


@pytest.mark.django_db
def test_a_pending_result_can_still_be_rejected(api_as, ai_result):
    result = pending(ai_result)
    response = api_as("annotator").post(
        f"/api/v1/annotations/results/{result.pk}/reject",
        {"version": 1, "password": PASSWORD, "reason": "wrong structure"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "rejected"


@pytest.mark.django_db
def test_the_check_is_recorded_once_with_its_flag_and_audited(ai_result):
    result = pending(ai_result)
    recorded = agreement.record(result.pk, Outcome(0.61234, True), seconds=0.2)
    assert recorded.agreement == 0.6123
    assert not recorded.agreement_pending
    assert [f["code"] for f in recorded.flags] == ["low_agreement"]
    assert "0.61" in recorded.flags[0]["message"]
    # A duplicate message (the recovery sweep raced the first check) changes nothing.
    assert agreement.record(result.pk, Outcome(0.99, False)) is None
    result.refresh_from_db()
    assert result.agreement == 0.6123 and len(result.flags) == 1
    entries = AuditEntry.objects.filter(action="result.agreement", object_id=str(result.pk))
    assert entries.count() == 1
    assert entries.get().new_values["flags"] == ["low_agreement"]


@pytest.mark.django_db
def test_a_check_that_fails_flags_the_result_instead_of_blocking_it(ai_result):
    class Broken:
        def embed_slice(self, image):
            raise RuntimeError("out of memory")

    result = pending(ai_result)
    content = result.prompt_version.content
    mask = np.zeros((3, 256, 256), np.uint8)
    mask[:, 100:140, 90:150] = 1
    recorded = agreement.check(result.pk, Broken(), np.zeros((3, 256, 256), np.float32),
                               content, agreement.box_prompts(result.job.geometry), mask,
                               (1.5, 0.957, 0.957))
    assert not recorded.agreement_pending
    assert recorded.agreement is None
    assert [f["code"] for f in recorded.flags] == ["agreement_not_checked"]
    assert "out of memory" in recorded.flags[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_stores_the_mask_before_the_check_and_records_the_check_after(
    api_as, library, make_head_series, celery_worker
):
    series, box, key = make_head_series(1)
    job_id = submit(api_as("annotator"), series, library["liver-ct"], box, key)
    job = wait_until(lambda: finished(job_id), timeout=300, interval=0.05)
    result = Result.objects.get(job=job)
    result = wait_until(lambda: Result.objects.filter(pk=result.pk, agreement_pending=False)
                        .first(), timeout=60, interval=0.1)
    assert 0.0 <= result.agreement <= 1.0
    created = AuditEntry.objects.get(action="result.create", object_id=str(result.pk))
    checked = AuditEntry.objects.get(action="result.agreement", object_id=str(result.pk))
    assert created.new_values["agreement_pending"] is True
    # The job was done (its result stored) before the check was recorded.
    assert Job.objects.get(pk=job.pk).finished_at <= checked.at
    assert created.seq < checked.seq
    assert checked.new_values["seconds"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_check_lost_with_its_worker_is_run_again_by_the_recovery_sweep(
    api_as, library, make_head_series, celery_worker, users
):
    from django.db import transaction

    from annotations.actions import do_submit_job


    series, box, key = make_head_series(3)
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": key, "box": box}]})
        result = store_draft(job, 3)
    # As a worker killed between storing the result and recording its check leaves it.
    Result.objects.filter(pk=result.pk).update(
        agreement_pending=True, created_at=timezone.now() - timedelta(minutes=5))

    result = wait_until(lambda: Result.objects.filter(pk=result.pk, agreement_pending=False)
                        .first(), timeout=120, interval=0.5)
    assert result.agreement is not None and 0.0 <= result.agreement <= 1.0
    assert AuditEntry.objects.filter(action="result.agreement",
                                     object_id=str(result.pk)).count() == 1
