"""Audited job actions: submit and cancel (users), and the worker's side of the lifecycle
(claim, progress, succeed, fail, requeue). Each writes its transition row and audit entry in
the same transaction as the change."""
import hashlib
import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.trail import record_event

from .geometry import GeometryError, validate_extent, validate_geometry
from .models import Job, JobStatus, JobTransition
from .models.jobs import LIVE
from .series_shape import SeriesNotUsable, series_digest, series_shape

logger = logging.getLogger(__name__)


def _transition(job: Job, to: str, *, actor=None, worker: str = "", reason: str = "") -> None:
    JobTransition.objects.create(
        job=job,
        from_status=job.status if job.pk and job.status != to else "",
        to_status=to,
        at=timezone.now(),
        actor=actor,
        worker=worker,
        reason=reason,
    )


def _versions(job: Job) -> dict:
    return {
        "engine": job.engine,
        "prompt_version": job.prompt_version_id,
        "prompt_key": job.structure_key,
    }


def engine_queue(engine_name: str) -> str:
    from model.engines.registry import list_engines

    for info in list_engines():
        if info.name == engine_name:
            return info.queue
    raise ValidationError({"prompt_version": f"The engine {engine_name!r} is not installed."})


def input_key(series, prompt_version, engine: str, prompts, extent=None) -> str:
    payload = {
        "series": series.series_instance_uid,
        "content_version": series.content_version,
        "prompt_version": prompt_version.pk,
        "engine": engine,
        "prompts": [p.as_json() for p in prompts],
    }
    if extent is not None:  # absent otherwise, so the keys of earlier jobs stand
        payload["extent"] = list(extent)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def check_can_segment(actor, series) -> None:
    if not actor.has_role(Role.ANNOTATOR):
        raise PermissionDenied("Only annotators start segmentations.")
    if series.study.patient.site_id != actor.site_id:
        raise PermissionDenied("This series belongs to another site.")


def do_submit_job(actor, series, prompt_version, geometry) -> tuple[Job, bool]:
    """Create a job, or return the live job with the same inputs. Returns (job, created)."""
    from prompts.models import VersionState

    check_can_segment(actor, series)
    if prompt_version.state != VersionState.APPROVED:
        raise ValidationError(
            {"prompt_version": "Only approved prompt versions can be used; this one is "
             f"{prompt_version.get_state_display().lower()}."}
        )
    entry = prompt_version.entry
    if entry.site_id != actor.site_id:
        raise PermissionDenied("This prompt version belongs to another site.")
    if entry.modality.upper() != (series.modality or "").upper():
        raise ValidationError(
            {"prompt_version": f"This protocol is for {entry.modality} images; the series is "
             f"{series.modality or 'of unknown modality'}."}
        )
    content = prompt_version.content
    try:
        shape = series_shape(series)
        prompts = validate_geometry(geometry, content["interaction"], shape)
        extent = validate_extent(geometry, content["interaction"], shape, prompts)
    except SeriesNotUsable as problem:
        raise ValidationError({"series": str(problem)}) from None
    except GeometryError as wrong:
        raise ValidationError({"geometry": f"{wrong.field}: {wrong.message}"}) from None
    engine = content["engine"]["name"]
    queue = engine_queue(engine)
    key = input_key(series, prompt_version, engine, prompts, extent)
    existing = Job.objects.filter(input_key=key, status__in=LIVE).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = Job(
                series=series,
                prompt_version=prompt_version,
                structure_key=entry.key,
                engine=engine,
                queue=queue,
                geometry={"prompts": [p.as_json() for p in prompts],
                          **({} if extent is None else
                             {"extent": {"first": extent[0], "last": extent[1]}})},
                input_key=key,
                series_digest=series_digest(series),
                created_by=actor,
                progress_total=shape[0] if content.get("dimensions", 3) == 3 else 1,
                max_attempts=settings.JOB_MAX_ATTEMPTS,
            )
            job.save()
            _transition(job, JobStatus.QUEUED, actor=actor, reason="submitted")
            record_event(
                action="job.submit",
                actor=actor,
                target=job,
                new={"series": series.pk, "geometry": job.geometry, "status": job.status},
                versions=_versions(job),
            )
            transaction.on_commit(lambda: publish(job.pk))
    except IntegrityError:
        return Job.objects.get(input_key=key, status__in=LIVE), False
    return job, True


def publish(job_id: int, countdown: float = 0) -> bool:
    """Send the job's message to its queue. A failure leaves the job queued; the recovery
    sweep publishes it again."""
    from .tasks import run_job

    job = Job.objects.only("queue").get(pk=job_id)
    try:
        run_job.apply_async(args=[job_id], queue=job.queue, countdown=countdown, retry=False)
    except Exception:
        logger.warning("could not publish job %s; the recovery sweep will retry", job_id)
        return False
    Job.objects.filter(pk=job_id).update(enqueued_at=timezone.now())
    return True


def do_cancel_job(actor, job: Job, reason: str = "") -> Job:
    """Cancel a queued job at once; ask a running job's worker to stop."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.created_by_id != actor.pk and not actor.has_role(Role.SITE_ADMIN):
            raise PermissionDenied("Only the user who started a job (or a site admin) cancels it.")
        if job.finished:
            raise ValidationError({"status": f"The job has already {job.status}."})
        if job.status == JobStatus.QUEUED:
            _transition(job, JobStatus.CANCELLED, actor=actor, reason=reason or "cancelled")
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
        job.cancel_requested = True
        job.save(update_fields=["status", "finished_at", "cancel_requested"])
        record_event(
            action="job.cancel",
            actor=actor,
            target=job,
            new={"status": job.status, "cancel_requested": True},
            reason=reason,
            versions=_versions(job),
        )
    return job


# --- the worker's side ----------------------------------------------------------------------


def _owner_alive(job: Job) -> bool:
    from core.models import WorkerHeartbeat

    fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(
        hostname=job.worker,
        last_seen__gte=fresh_after,
        stopped_at__isnull=True,
        started_at__lte=job.started_at,
    ).exists()


def do_claim_job(job_id: int, worker: str) -> Job | None:
    """Take a job for this worker, or None when it is finished, cancelled, or running on
    another live worker. A job whose worker died is taken over (and counted as an attempt)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if job.status == JobStatus.RUNNING and _owner_alive(job):
            return None
        if job.cancel_requested:
            _finish(job, JobStatus.CANCELLED, worker=worker, reason="cancelled before it ran")
            return None
        if job.attempts >= job.max_attempts:
            _finish(
                job,
                JobStatus.FAILED,
                worker=worker,
                reason=f"gave up after {job.attempts} attempts: "
                + (job.error or "the worker running it was lost each time"),
            )
            return None
        reason = "started" if job.status == JobStatus.QUEUED else f"worker {job.worker} was lost"
        _transition(job, JobStatus.RUNNING, worker=worker, reason=reason)
        job.status = JobStatus.RUNNING
        job.worker = worker
        job.attempts += 1
        job.attempt_token = uuid.uuid4()
        job.started_at = timezone.now()
        job.progress_done = 0
        job.save()
        record_event(
            action="job.start",
            target=job,
            new={"status": job.status, "worker": worker, "attempt": job.attempts},
            versions=_versions(job),
        )
    return job


def _finish(job: Job, status: str, *, worker: str = "", reason: str = "") -> None:
    _transition(job, status, worker=worker, reason=reason)
    old = job.status
    job.status = status
    job.finished_at = timezone.now()
    if status == JobStatus.FAILED:
        job.error = reason
    job.save()
    record_event(
        action=f"job.{status}",
        target=job,
        old={"status": old},
        new={"status": status},
        reason=reason,
        versions=_versions(job),
    )


def owns(job: Job) -> bool:
    """Whether this attempt still owns the job (not cancelled, not taken over)."""
    current = Job.objects.filter(pk=job.pk).values("status", "attempt_token").first()
    return bool(current) and current["status"] == JobStatus.RUNNING and (
        current["attempt_token"] == job.attempt_token
    )


def do_fail_attempt(job: Job, error: str, *, permanent: bool) -> bool:
    """Record a failed attempt. Returns True when the job should be tried again."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.attempt_token != job.attempt_token or current.finished:
            return False
        if current.cancel_requested:
            _finish(current, JobStatus.CANCELLED, worker=job.worker, reason="cancelled")
            return False
        if permanent or current.attempts >= current.max_attempts:
            prefix = "" if permanent else f"failed {current.attempts} times; last error: "
            _finish(current, JobStatus.FAILED, worker=job.worker, reason=prefix + error)
            return False
        _transition(current, JobStatus.QUEUED, worker=job.worker, reason=f"retry after: {error}")
        current.status = JobStatus.QUEUED
        current.error = error
        current.attempt_token = None
        current.save()
    return True


def do_cancel_running(job: Job) -> None:
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.attempt_token == job.attempt_token and not current.finished:
            _finish(current, JobStatus.CANCELLED, worker=job.worker, reason="cancelled")


def requeue_orphans() -> list[int]:
    """Publish again what may have been lost: jobs running on a dead worker, and queued jobs
    whose message has not been taken for a while (a broker restart, a failed publish).
    Duplicate messages are harmless: ``do_claim_job`` lets only one attempt run."""
    now = timezone.now()
    republish_after = now - timedelta(seconds=settings.JOB_REPUBLISH_AFTER_SECONDS)
    ids = []
    for job in Job.objects.filter(status=JobStatus.RUNNING):
        if not _owner_alive(job):
            ids.append(job.pk)
    stale_queued = Job.objects.filter(status=JobStatus.QUEUED).exclude(
        enqueued_at__gte=republish_after
    )
    ids += list(stale_queued.values_list("pk", flat=True))
    for job_id in ids:
        publish(job_id)
    return ids


# --- results: ownership ---------------------------------------------------------------------


def do_reassign_result(actor, result, new_owner, reason: str):
    """Hand an unconfirmed draft to another annotator of its site. The draft's owner may hand
    it on; a site admin of the site may reassign any draft. Audited with the owners before
    and after, and the reason; recorded as a transition row (the state does not change)."""
    from .models import Result, ResultTransition
    from .models.results import UNCONFIRMED

    reason = (reason or "").strip()
    site_id = result.series.study.patient.site_id
    if site_id != actor.site_id:
        raise PermissionDenied("This result belongs to another site.")
    is_admin = actor.has_role(Role.SITE_ADMIN)
    if not reason:
        raise ValidationError({"reason": "Say why the draft changes hands."})
    if new_owner is None:
        raise ValidationError({"owner": "Name the annotator who takes the draft over."})
    if new_owner.site_id != site_id or not new_owner.is_active:
        raise ValidationError({"owner": "The new owner must be an active user of this site."})
    if not new_owner.has_role(Role.ANNOTATOR):
        raise ValidationError({"owner": f"{new_owner.get_printed_name()} is not an annotator; "
                               "only annotators own drafts."})
    with transaction.atomic():
        locked = (Result.objects.select_for_update(of=("self",)).select_related("owner")
                  .get(pk=result.pk))
        if not is_admin and locked.owner_id != actor.pk:
            raise PermissionDenied("Only the draft's owner or a site admin reassigns it.")
        if locked.state not in UNCONFIRMED:
            raise ValidationError({"state": f"This result is {locked.get_state_display().lower()}"
                                   "; only drafts change hands."})
        if locked.owner_id == new_owner.pk:
            raise ValidationError({"owner": f"{new_owner.get_printed_name()} already owns this "
                                   "draft."})
        before = locked.owner
        ResultTransition.objects.create(
            result=locked, from_state=locked.state, to_state=locked.state, at=timezone.now(),
            actor=actor,
            reason=f"reassigned from {before.get_printed_name() if before else 'nobody'} to "
            f"{new_owner.get_printed_name()}: {reason}",
        )
        Result.objects.filter(pk=locked.pk).update(owner=new_owner)
        record_event(
            action="result.reassign",
            actor=actor,
            target=locked,
            old={"owner": before.pk if before else None,
                 "owner_name": before.get_printed_name() if before else None},
            new={"owner": new_owner.pk, "owner_name": new_owner.get_printed_name()},
            reason=reason,
        )
    return Result.objects.get(pk=result.pk)
