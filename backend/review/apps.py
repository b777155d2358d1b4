from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"

    def ready(self) -> None:
        from annotations.signals import result_decided

        from . import tasks  # noqa: F401  (registers the Celery tasks)
        from .actions.sampling import on_result_decided

        result_decided.connect(on_result_decided, dispatch_uid="review.sample_on_decision")
