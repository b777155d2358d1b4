from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"

    def ready(self) -> None:
        from annotations.signals import result_decided
        from core.heartbeat import register_maintenance

        from . import tasks  # registers the Celery tasks
        from .actions.sampling import on_result_decided

        register_maintenance(tasks.sweep)
        result_decided.connect(on_result_decided, dispatch_uid="review.sample_on_decision")
