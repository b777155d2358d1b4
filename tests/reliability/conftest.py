"""A populated home site for the reliability and security tests: a real 3-slice head CT
series with an AI draft, a second result confirmed and sampled into QA, the shipped prompt
library, an alert, a report request, a worker heartbeat, a probe, a training set and job --
one object behind every URL parameter, so each endpoint can be called for real."""
from dataclasses import dataclass

import numpy as np
import pytest
from django.utils import timezone

from tests.backend.annotations.conftest import (  # noqa: F401 (fixtures)
    ai_result,
    head_ct,
    library,
    make_head_series,
)
from tests.conftest import PASSWORD


@dataclass
class World:
    series: object
    instance: object
    result: object
    confirmed: object
    job: object
    qa_item: object
    version: object
    alert: object
    report: object
    audit_seq: int
    worker: str
    probe: object
    watched_user: object
    training_set: object
    training_job: object


@pytest.fixture
def world(ai_result, library, users, sites, make_head_series):  # noqa: F811
    from annotations import masks
    from annotations.actions import do_claim_job, do_submit_job
    from annotations.confirmation import do_confirm_result
    from annotations.execution import save_result
    from audit.models import AuditEntry
    from core.models import WorkerHeartbeat, WorkerProbe
    from learning.actions import do_create_training_set, do_start_training
    from review.actions.policy import do_watch_annotator
    from review.actions.reports import do_request_report
    from review.models import PromptVersionAlert, QAItem

    series = ai_result.series
    version = library["liver-ct"]

    def confirmed_spleen(on_series, slices: int):
        """A confirmed spleen result on ``on_series`` (made as the worker would, then signed)."""
        job, _ = do_submit_job(users["annotator_member"], on_series, library["spleen-ct"],
                               {"prompts": [{"slice": 1, "box": [90.0, 100.0, 150.0, 140.0]}]})
        job = do_claim_job(job.pk, "test-worker@localhost")
        mask = np.zeros((slices, 256, 256), np.uint8)
        mask[:, 90:120, 90:130] = 1
        provenance = {"engine": "litemedsam", "weights_sha256": "cd" * 32,
                      "code_version": "test"}
        result = save_result(job, mask, masks.stats(mask, (1.5, 0.957, 0.957)),
                             dict.fromkeys(range(slices), 0.9), None, [], provenance)
        return do_confirm_result(users["annotator_member"], result, 1, PASSWORD)

    confirmed = confirmed_spleen(series, 3)
    confirmed_spleen(make_head_series(2, patient="HEAD-2")[0], 2)  # a second patient to train
    qa_item = QAItem.objects.filter(result=confirmed).first() or QAItem.objects.create(
        result=confirmed, site=sites["home"], mode="blinded", reasons=[],
        created_at=timezone.now())
    alert = PromptVersionAlert.objects.create(
        prompt_version=version, site=sites["home"], raised_at=timezone.now(),
        reasons=[{"code": "edit_rate", "message": "many edits"}], figures={})
    today = timezone.now().date()
    report = do_request_report(users["auditor"], today, today)
    worker = WorkerHeartbeat.objects.create(
        hostname="matrix-worker@localhost", queues=["cpu"], engines=["litemedsam"], pid=1,
        started_at=timezone.now(), last_seen=timezone.now())
    training_set = do_create_training_set(users["prompt_admin"], sites["home"], "spleen-ct", "CT")
    training_job = do_start_training(users["prompt_admin"], training_set)
    watched = do_watch_annotator(users["site_admin"], sites["home"], users["annotator_member"],
                                 "new starter")
    return World(
        series=series, instance=series.instances.order_by("id").first(), result=ai_result,
        confirmed=confirmed, job=ai_result.job, qa_item=qa_item, version=version, alert=alert,
        report=report, audit_seq=AuditEntry.objects.order_by("-seq").values_list(
            "seq", flat=True).first(), worker=worker.hostname, probe=WorkerProbe.objects.create(),
        watched_user=watched.annotator, training_set=training_set, training_job=training_job,
    )
