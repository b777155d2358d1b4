"""Celery tasks for inference jobs. A message only says "run job N"; whether and how it runs is
decided by the job's row (``actions.do_claim_job``), so duplicate or redelivered messages are
harmless and a job finishes exactly once."""
import logging
import socket
import threading
import time

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import close_old_connections

from audit.context import acting_from

from . import actions
from .models import Job, Result

logger = logging.getLogger(__name__)


def load_engine(name: str):
    from model.engines.registry import get_engine

    return get_engine(name)


def load_volume(series):
    from imaging.volumes import load_series_volume

    return load_series_volume(series)


@shared_task(bind=True, name="annotations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(self, job_id: int) -> str:
    from model.engines.base import EngineUnavailable
    from model.imaging import ImagingError

    from .corrections import run_correction
    from .execution import PermanentJobError, run

    worker = self.request.hostname or socket.gethostname()
    with acting_from(None, "worker"):
        job = actions.do_claim_job(job_id, worker)
        if job is None:
            return "skipped"
        try:
            runner = run_correction if job.corrects_id else run
            result = runner(job, load_engine, load_volume)
        except (PermanentJobError, EngineUnavailable, ImagingError, ValueError) as problem:
            actions.do_fail_attempt(job, str(problem), permanent=True)
            return "failed"
        except Exception as problem:
            logger.exception("job %s attempt %s failed", job_id, job.attempts)
            if actions.do_fail_attempt(job, f"{type(problem).__name__}: {problem}",
                                       permanent=False):
                actions.publish(job_id, countdown=min(60, 5 * job.attempts))
            return "retry"
        if result is None:
            actions.do_cancel_running(job)
            return "cancelled"
        return "succeeded"


@shared_task(name="annotations.check_agreement", acks_late=True, reject_on_worker_lost=True)
def check_agreement(result_id: int) -> str:
    """The agreement check of a stored result whose first check was lost with its worker."""
    from .agreement import check_stored

    with acting_from(None, "worker"):
        return "recorded" if check_stored(result_id, load_engine, load_volume) else "skipped"


@shared_task(name="annotations.prefetch_embeddings", ignore_result=True)
def prefetch_embeddings(series_id: int, prompt_version_id: int, slices: list[int]) -> int:
    """Embed slices the viewer expects a prompt on (annotations.prefetch); a hint, never
    retried."""
    from imaging.models import Series
    from prompts.models import PromptVersion

    from .prefetch import embed_slices

    series = Series.objects.filter(pk=series_id).first()
    version = PromptVersion.objects.filter(pk=prompt_version_id).first()
    if series is None or version is None:
        return 0
    with acting_from(None, "worker"):
        computed = embed_slices(series, version, slices, load_engine, load_volume)
    logger.info("prefetch: series %s slices %s, %d embedded", series_id, slices, computed)
    return computed


def sweep() -> None:
    """Recovery: publish again jobs lost with a dead worker or a restarted broker, and
    agreement checks lost between storing a result and recording its check."""
    from .agreement import requeue_pending_checks

    with acting_from(None, "worker"):
        requeued = actions.requeue_orphans()
        checks = requeue_pending_checks()
    if requeued or checks:
        logger.info("recovery sweep published %d job(s) and %d agreement check(s) again",
                    len(requeued), len(checks))


@worker_ready.connect
def sweep_on_start(sender, **kwargs):
    if (Job.objects.filter(status__in=["queued", "running"]).exists()
            or Result.objects.filter(agreement_pending=True).exists()):
        sweep()


def engines_to_preload(queues: list[str]) -> list[str]:
    """Engines this worker serves that an approved prompt version pins: loaded at start, so
    the first prompt (and live preview) after a restart does not wait for the engine."""
    from core.heartbeat import engines_for
    from prompts.models import PromptVersion, VersionState

    pinned = {content.get("engine", {}).get("name") for content in PromptVersion.objects.filter(
        state=VersionState.APPROVED).values_list("content", flat=True)}
    return sorted(set(engines_for(queues)) & pinned)


def _preload(queues: list[str]) -> None:
    try:
        for name in engines_to_preload(queues):
            started = time.monotonic()
            load_engine(name)
            logger.info("engine %s loaded in %.1f s", name, time.monotonic() - started)
    except Exception:  # a job loads the engine itself when this fails
        logger.exception("preloading the engines failed")
    finally:
        close_old_connections()


@worker_ready.connect
def preload_engines(sender, **kwargs):
    if not settings.PRELOAD_ENGINES:
        return
    queues = sorted(q.name for q in sender.task_consumer.queues)
    threading.Thread(target=_preload, args=(queues,), name="engine-preload", daemon=True).start()
