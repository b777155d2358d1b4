"""Progress and cancel checks of a running training job, throttled to spare the database."""
import time

from .models import TrainingJob

EVERY_SECONDS = 0.5


class JobProgress:
    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self._last_write = 0.0
        self._last_check = 0.0

    def _rows(self):
        return TrainingJob.objects.filter(pk=self.job.pk, attempt_token=self.job.attempt_token)

    def stage(self, name: str) -> None:
        self._rows().update(stage=name, progress_done=0, progress_total=0)

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_write >= EVERY_SECONDS or done == total:
            self._last_write = now
            self._rows().update(progress_done=done, progress_total=total)

    def cancelled(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self._last_check < EVERY_SECONDS:
            return False
        self._last_check = now
        # Stop when a cancel was asked for, or when this attempt no longer owns the job (it
        # was taken over after this worker was thought lost, or finished meanwhile).
        return not TrainingJob.objects.filter(
            pk=self.job.pk, attempt_token=self.job.attempt_token, status="running",
            cancel_requested=False).exists()
