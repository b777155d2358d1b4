"""Structured logs: one JSON object per line (``MEDSAM_LOG_FORMAT=json``), patient data masked
(``ops.redaction``)."""
import logging
import os

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .redaction import redacted_copy


class JsonFormatter(_JsonFormatter):
    """``{"timestamp", "level", "logger", "message", "service", ...extra fields}``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("static_fields", {"service": os.environ.get("MEDSAM_SERVICE", "")})
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(redacted_copy(record))
