from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"

    def ready(self) -> None:
        try:
            from model.engines.providers import add_provider
        except ImportError:
            return  # no engines in this process (the model package is not on the path)

        from .engines import register_model_versions

        add_provider(register_model_versions)
