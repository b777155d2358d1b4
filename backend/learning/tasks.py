"""Celery tasks for training jobs (queue ``cpu``). A message only says "run training job N";
the job's row decides whether it runs, so a duplicate message is harmless."""
import logging
import socket

from celery import shared_task
from celery.signals import worker_ready

from audit.context import acting_from

from . import actions
from .models import TrainingJob, TrainingStatus

logger = logging.getLogger(__name__)


def load_engine(name: str):
    from model.engines.registry import get_engine

    return get_engine(name, "cpu")


def load_volume(series):
    from imaging.volumes import load_series_volume

    return load_series_volume(series)


@shared_task(bind=True, name="learning.run_training", acks_late=True,
             reject_on_worker_lost=True)
def run_training(self, job_id: int) -> str:
    from model.engines.base import EngineUnavailable

    from .execution import PermanentTrainingError, run

    worker = self.request.hostname or socket.gethostname()
    with acting_from(None, "worker"):
        job = actions.do_claim_training(job_id, worker)
        if job is None:
            return "skipped"
        try:
            version = run(job, load_engine, load_volume)
        except (PermanentTrainingError, EngineUnavailable, ValueError) as problem:
            actions.do_fail_training(job, str(problem))
            return "failed"
        except Exception as problem:
            logger.exception("training job %s failed", job_id)
            actions.do_fail_training(job, f"{type(problem).__name__}: {problem}")
            return "failed"
        if version is None:
            actions.do_fail_training(job, "cancelled")
            return "cancelled"
        return "succeeded"


def sweep() -> None:
    """Recovery: publish again training jobs left running by a dead worker."""
    with acting_from(None, "worker"):
        requeued = actions.requeue_orphans()
    if requeued:
        logger.info("recovery sweep published %d training job(s) again", len(requeued))


@worker_ready.connect
def sweep_on_start(sender, **kwargs):
    if TrainingJob.objects.filter(status=TrainingStatus.RUNNING).exists():
        sweep()


@shared_task(name="learning.score_uncertainty")
def score_uncertainty(prompt_version_id: int, limit: int = 20) -> int:
    """Score unannotated series of the entry's site for the worklist's uncertainty order."""
    from prompts.models import PromptVersion

    from .uncertainty import score_series

    version = PromptVersion.objects.select_related("entry__site").get(pk=prompt_version_id)
    return score_series(version.entry.site, version, load_engine, load_volume, limit)
