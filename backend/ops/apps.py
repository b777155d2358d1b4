from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: probes, Prometheus metrics, JSON logs, backup and restore."""

    name = "ops"

    def ready(self) -> None:
        from . import worker_http  # noqa: F401  (connects the worker signals)
