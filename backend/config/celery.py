"""The Celery application. Workers start with ``celery -A config worker -Q <queues>``.

Queues: ``gpu`` (MedSAM-2 engines), ``cpu`` (the default CPU engine) and ``default``
(everything else). The application's own tables hold job state; Celery only carries work.
"""
import os
from pathlib import Path

from celery import Celery
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// is the embedded default; core.broker makes its writes and claims atomic.
TRANSPORT_ALIASES["filesystem"] = "core.broker:AtomicFilesystemTransport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("medsam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("cpu"), Queue("gpu"))
app.conf.task_routes = {"core.tasks.*": {"queue": "default"}}
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_file_system_broker_folders(sender, **kwargs):
    """The embedded default's broker is a folder; kombu expects it to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


MODEL_QUEUES = ("cpu", "gpu")
ALL_QUEUES = ("default", *MODEL_QUEUES)
