from celery import shared_task
from django.utils import timezone

from .models import WorkerProbe


@shared_task(bind=True, name="core.tasks.answer_probe")
def answer_probe(self, probe_id: int) -> None:
    """Answer a round-trip probe: proves broker, worker and database work together."""
    WorkerProbe.objects.filter(pk=probe_id, answered_at__isnull=True).update(
        answered_by=self.request.hostname or "", answered_at=timezone.now()
    )
