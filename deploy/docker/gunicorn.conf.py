"""gunicorn settings of the web image (``gunicorn -c deploy/docker/gunicorn.conf.py``).

Every value comes from the environment (deploy/env.example documents them). Request lines come
from the application (``MEDSAM_ACCESS_LOG``: route patterns, no query strings), so gunicorn's
own access log stays off; its error log follows ``MEDSAM_LOG_FORMAT``.
"""
import os
import shutil
from pathlib import Path

bind = os.environ.get("MEDSAM_WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("MEDSAM_WEB_WORKERS", "3"))
threads = int(os.environ.get("MEDSAM_WEB_THREADS", "4"))
timeout = int(os.environ.get("MEDSAM_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Only the reverse proxy in front may say a request came over HTTPS.
forwarded_allow_ips = os.environ.get("MEDSAM_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

if os.environ.get("MEDSAM_LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO",
                                       "propagate": False}},
    }

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    """Request metrics of all gunicorn processes meet in one folder; start it empty."""
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
        os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    if _metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
