from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"

    def ready(self) -> None:
        from core.heartbeat import register_maintenance

        from . import tasks

        register_maintenance(tasks.sweep)
        try:
            from model.engines.providers import add_provider
        except ImportError:
            return  # no engines in this process (the model package is not on the path)

        from .engines import register_model_versions

        add_provider(register_model_versions)
