from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: probes, Prometheus metrics, JSON logs, backup and restore."""

    name = "ops"

    def ready(self) -> None:
        import logging

        from . import worker_http  # noqa: F401  (connects the worker signals)

        # Warnings (pydicom's and highdicom's quote attribute values, patient names included)
        # go through logging, hence through the redacting formatters, instead of raw stderr.
        logging.captureWarnings(True)
