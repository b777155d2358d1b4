from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from django.db.models.signals import m2m_changed

        from .models import User
        from .roles import _guard_group_change

        m2m_changed.connect(_guard_group_change, sender=User.groups.through,
                            dispatch_uid="accounts.role_conflicts")
