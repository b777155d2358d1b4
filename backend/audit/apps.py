from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self):
        from django.contrib.auth import get_user_model

        from . import user_changes

        user_changes.connect(get_user_model())
