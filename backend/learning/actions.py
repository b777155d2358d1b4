"""Audited learning actions: draw a training set, start and cancel a fine-tune (users), and
the worker's side (claim, progress, store the model version, fail). Each writes its audit
entry in the same transaction as the change."""
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.trail import record_event

from .models import (
    ModelVersion,
    TrainingJob,
    TrainingMember,
    TrainingSet,
    TrainingStatus,
    TrainingTransition,
)
from .sets import earlier_sides, eligible_results

DEFAULT_CONFIG = {"epochs": 8, "batch_size": 4, "learning_rate": 3e-4, "weight_decay": 0.01,
                  "seed": 0, "train_prompt_encoder": False, "max_slices_per_result": 8}
TRAINABLE_BASES = ("litemedsam",)
# Claims of one job (the first and each take-over after a lost worker) before it fails.
MAX_ATTEMPTS = 3
logger = logging.getLogger(__name__)


def require_model_admin(actor, site) -> None:
    if not (actor.has_role(Role.PROMPT_ADMIN) or actor.has_role(Role.SITE_ADMIN)):
        raise PermissionDenied("Only prompt-library or site administrators train models.")
    if actor.site_id != site.pk:
        raise PermissionDenied("This belongs to another site.")


def do_create_training_set(actor, site, structure_key: str, modality: str, *,
                           qa_passed_only: bool = False,
                           validation_fraction: float = 0.3) -> TrainingSet:
    """Draw the eligible confirmed results into a new set, split by patient."""
    from model.training.examples import split_groups

    require_model_admin(actor, site)
    if not 0 < validation_fraction < 1:
        raise ValidationError({"validation_fraction": "Give a fraction between 0 and 1."})
    results = list(eligible_results(site, structure_key, modality, qa_passed_only))
    patients = {r.pk: r.series.study.patient.patient_id for r in results}
    if len(set(patients.values())) < 2:
        raise ValidationError({"structure_key": (
            f"{len(results)} confirmed result(s) from {len(set(patients.values()))} patient(s) "
            f"of {structure_key} ({modality}) are eligible; a train/validation split by "
            "patient needs at least two patients.")})
    salt = f"{site.code}:{structure_key}:{modality.upper()}"
    sides = split_groups(list(patients.values()), salt, validation_fraction,
                         fixed=earlier_sides(site, structure_key, modality))
    if set(sides.values()) != {"train", "validation"}:
        raise ValidationError({"structure_key": (
            "Every eligible patient is already on one side of earlier splits; confirm results "
            "of new patients first.")})
    with transaction.atomic():
        training_set = TrainingSet.objects.create(
            site=site, structure_key=structure_key, modality=modality.upper(),
            qa_passed_only=qa_passed_only, validation_fraction=validation_fraction, salt=salt,
            created_by=actor,
        )
        TrainingMember.objects.bulk_create(TrainingMember(
            training_set=training_set, result=r, mask_version=r.final_version,
            patient_id=patients[r.pk], side=sides[patients[r.pk]]) for r in results)
        record_event(action="learning.set.create", actor=actor, target=training_set, new={
            "structure_key": structure_key, "modality": modality, "results": len(results),
            "validation_patients": sorted(p for p, s in sides.items() if s == "validation"),
            "qa_passed_only": qa_passed_only})
    return training_set


def _transition(job, to, *, actor=None, worker="", reason="") -> None:
    TrainingTransition.objects.create(job=job, from_status=job.status, to_status=to,
                                      at=timezone.now(), actor=actor, worker=worker,
                                      reason=reason)


def do_start_training(actor, training_set: TrainingSet, base_engine: str = "litemedsam",
                      config: dict | None = None) -> TrainingJob:
    """Freeze the set (its split never changes from now on) and queue a fine-tune."""
    from model.training.finetune import FineTuneConfig

    require_model_admin(actor, training_set.site)
    if base_engine not in TRAINABLE_BASES:
        raise ValidationError({"base_engine": f"Fine-tuning is available for "
                               f"{', '.join(TRAINABLE_BASES)}, not {base_engine}."})
    merged = {**DEFAULT_CONFIG, **(config or {})}
    unknown = set(merged) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValidationError({"config": f"Unknown settings: {', '.join(sorted(unknown))}."})
    try:
        FineTuneConfig.from_dict({k: v for k, v in merged.items()
                                  if k != "max_slices_per_result"})
    except (TypeError, ValueError) as wrong:
        raise ValidationError({"config": str(wrong)}) from None
    with transaction.atomic():
        locked = TrainingSet.objects.select_for_update().get(pk=training_set.pk)
        if locked.frozen_at is None:
            locked.frozen_at = timezone.now()
            locked.save(update_fields=["frozen_at"])
        job = TrainingJob(training_set=locked, base_engine=base_engine, config=merged,
                          created_by=actor)
        job.save()
        TrainingTransition.objects.create(job=job, to_status=TrainingStatus.QUEUED,
                                          at=timezone.now(), actor=actor, reason="submitted")
        record_event(action="learning.train.submit", actor=actor, target=job,
                     new={"training_set": locked.pk, "base_engine": base_engine,
                          "config": merged})
        transaction.on_commit(lambda: publish(job.pk))
    return job


def publish(job_id: int) -> None:
    from .tasks import run_training

    run_training.apply_async(args=[job_id], queue="cpu", retry=False)


def _finish(job, status, *, actor=None, worker="", reason="") -> None:
    _transition(job, status, actor=actor, worker=worker, reason=reason)
    old, job.status, job.finished_at = job.status, status, timezone.now()
    if status == TrainingStatus.FAILED:
        job.error = reason
    job.save()
    record_event(action=f"learning.train.{status}", actor=actor, target=job,
                 old={"status": old}, new={"status": status}, reason=reason)


def do_cancel_training(actor, job: TrainingJob, reason: str = "") -> TrainingJob:
    """Cancel a queued job, or a running one whose worker is dead, at once; ask a live
    worker running it to stop (its training loop checks the request; it stores nothing)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        require_model_admin(actor, job.training_set.site)
        if job.finished:
            raise ValidationError({"status": f"The training job has already {job.status}."})
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
        if job.status == TrainingStatus.QUEUED or not _owner_alive(job):
            _finish(job, TrainingStatus.CANCELLED, actor=actor, reason=reason or "cancelled")
        else:
            record_event(action="learning.train.cancel", actor=actor, target=job,
                         new={"cancel_requested": True}, reason=reason)
    return job


def _owner_alive(job: TrainingJob) -> bool:
    """Whether the worker that claimed this running job still beats (and is the same process
    that claimed it, not a restart under the same name)."""
    from core.models import WorkerHeartbeat

    if job.status != TrainingStatus.RUNNING or not job.worker or job.started_at is None:
        return False
    fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(
        hostname=job.worker, last_seen__gte=fresh_after, stopped_at__isnull=True,
        started_at__lte=job.started_at).exists()


def do_claim_training(job_id: int, worker: str) -> TrainingJob | None:
    """Take a job for this worker with a new attempt token, or None when it is finished,
    cancelled, or running on another live worker. A job whose worker died is taken over."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if job.status == TrainingStatus.RUNNING and _owner_alive(job):
            return None
        if job.cancel_requested:
            _finish(job, TrainingStatus.CANCELLED, worker=worker,
                    reason="cancelled before it ran" if job.status == TrainingStatus.QUEUED
                    else f"cancelled; worker {job.worker} was lost")
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _finish(job, TrainingStatus.FAILED, worker=worker,
                    reason=f"gave up after {job.attempts} attempts: "
                    + (job.error or "the worker running it was lost each time"))
            return None
        lost = job.status == TrainingStatus.RUNNING
        reason = f"worker {job.worker} was lost" if lost else "started"
        _transition(job, TrainingStatus.RUNNING, worker=worker, reason=reason)
        job.status, job.worker, job.attempts = TrainingStatus.RUNNING, worker, job.attempts + 1
        job.attempt_token, job.started_at = uuid.uuid4(), timezone.now()
        job.stage, job.progress_done, job.progress_total = "", 0, 0
        job.save()
        record_event(action="learning.train.start", target=job, reason=reason,
                     new={"status": job.status, "worker": worker, "attempt": job.attempts})
    return job


def owns(job: TrainingJob) -> bool:
    """Whether this attempt still owns the job (running, not taken over by another)."""
    return TrainingJob.objects.filter(pk=job.pk, status=TrainingStatus.RUNNING,
                                      attempt_token=job.attempt_token).exists()


def requeue_orphans() -> list[int]:
    """Publish again the jobs running on a dead worker; the claim lets one attempt run (a
    duplicate message is harmless) and finishes a cancelled one."""
    ids = [job.pk for job in TrainingJob.objects.filter(status=TrainingStatus.RUNNING)
           if not _owner_alive(job)]
    for job_id in ids:
        try:
            publish(job_id)
        except Exception:
            logger.warning("could not publish training job %s; the next sweep retries", job_id)
    return ids


def _owned(job: TrainingJob) -> TrainingJob | None:
    current = TrainingJob.objects.select_for_update().get(pk=job.pk)
    if current.attempt_token != job.attempt_token or current.status != TrainingStatus.RUNNING:
        return None
    return current


def do_store_model_version(job: TrainingJob, fields: dict) -> ModelVersion | None:
    """Register the fine-tuned version and finish the job in one transaction, only if this
    attempt still owns the job and no cancel was asked for; None otherwise."""
    with transaction.atomic():
        current = _owned(job)
        if current is None:
            return None
        if current.cancel_requested:
            _finish(current, TrainingStatus.CANCELLED, worker=job.worker, reason="cancelled")
            return None
        version = ModelVersion.objects.filter(weights_sha256=fields["weights_sha256"]).first()
        created = version is None
        if created:
            version = ModelVersion.objects.create(**fields)
            record_event(action="learning.model.register", target=version, new={
                "engine": version.engine_name, "int8_engine": version.int8_engine_name,
                "weights_sha256": version.weights_sha256, "data_sha256": version.data_sha256,
                "validation": version.validation["summary"]},
                versions={"engine": version.base_engine,
                          "weights_sha256": version.base_weights_sha256,
                          "code_version": version.code_version})
        current.model_version = version
        current.progress_done = current.progress_total
        _finish(current, TrainingStatus.SUCCEEDED, worker=job.worker,
                reason=f"{'registered' if created else 'reproduced'} {version.engine_name}")
    return version


def do_fail_training(job: TrainingJob, error: str) -> None:
    with transaction.atomic():
        current = _owned(job)
        if current is not None:
            status = (TrainingStatus.CANCELLED if current.cancel_requested
                      else TrainingStatus.FAILED)
            _finish(current, status, worker=job.worker,
                    reason="cancelled" if current.cancel_requested else error)
