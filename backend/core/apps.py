from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from . import heartbeat  # noqa: F401  (connects the worker signals)
