from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self) -> None:
        from core.heartbeat import register_maintenance

        from . import tasks

        register_maintenance(tasks.sweep)
