"""The Celery application. Workers start with ``celery -A config worker -Q <queues>``.

Queues: ``gpu`` (MedSAM-2 engines), ``cpu`` (the default CPU engine) and ``default``
(everything else). The application's own tables hold job state; Celery only carries work.
"""
import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("medsam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("cpu"), Queue("gpu"))
app.conf.task_routes = {"core.tasks.*": {"queue": "default"}}
app.autodiscover_tasks()

MODEL_QUEUES = ("cpu", "gpu")
ALL_QUEUES = ("default", *MODEL_QUEUES)
