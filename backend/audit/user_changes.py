"""Audit entries for user accounts created, changed or deleted anywhere: the admin, a
management command, a shell. Wired to the User model's save and delete signals in
``AuditConfig.ready``, so the entry is written in the transaction of the save itself.

Sign-in bookkeeping (``last_login``) is not a change of the account and is not recorded. Role
changes are recorded by ``accounts.actions.do_set_roles`` (``user.set_roles``), not here.
"""
from django.db.models.signals import post_delete, post_save, pre_save

from .trail import record_event

AUDITED_FIELDS = (
    "username",
    "printed_name",
    "first_name",
    "last_name",
    "email",
    "site_id",
    "is_active",
    "is_staff",
    "is_superuser",
    "must_change_password",
    "password",
)
HIDDEN = "[hidden]"


def _values(user, names) -> dict:
    return {name: getattr(user, name) for name in names}


def _shown(values: dict) -> dict:
    """Never the password hash: only whether the password is usable."""
    if "password" not in values:
        return values
    usable = values["password"] and not values["password"].startswith("!")
    return {**values, "password": HIDDEN if usable else "[unusable]"}


def _remember_before(sender, instance, raw, update_fields=None, **kwargs):
    if instance._state.adding or instance.pk is None:
        return
    names = [
        name for name in AUDITED_FIELDS
        if update_fields is None or {name, name.removesuffix("_id")} & set(update_fields)
    ]
    if not names:
        instance._audit_before = None
        return
    before = sender._base_manager.filter(pk=instance.pk).values(*names).first()
    instance._audit_before = before


def intend(user, action: str, reason: str = "", actor=None) -> None:
    """Name the next save of ``user`` in the trail (``user.disable``, ``user.password_reset``)
    with the actor's reason, instead of the generic ``user.create``/``user.update``: one entry
    per change, saying why."""
    user._audit_intent = (action, reason, actor)


def _record_save(sender, instance, created, raw, **kwargs):
    intent = instance.__dict__.pop("_audit_intent", None)
    if created:
        action, reason, actor = intent or ("user.create", "", None)
        record_event(action=action, target=instance, reason=reason, actor=actor,
                     new=_shown(_values(instance, AUDITED_FIELDS)))
        return
    before = instance.__dict__.pop("_audit_before", None)
    if not before:
        return
    after = _values(instance, before)
    changed = [name for name in before if before[name] != after[name]]
    if not changed:
        return
    old = {name: before[name] for name in changed}
    new = {name: after[name] for name in changed}
    if "password" in changed:
        old["password"], new["password"] = HIDDEN, "[changed]"
    action, reason, actor = intent or ("user.update", "", None)
    record_event(action=action, target=instance, old=old, new=new, reason=reason, actor=actor)


def _record_delete(sender, instance, **kwargs):
    record_event(action="user.delete", target=instance,
                 old=_shown(_values(instance, AUDITED_FIELDS)))


def connect(user_model) -> None:
    uid = "audit.user_changes"
    pre_save.connect(_remember_before, sender=user_model, dispatch_uid=uid)
    post_save.connect(_record_save, sender=user_model, dispatch_uid=uid)
    post_delete.connect(_record_delete, sender=user_model, dispatch_uid=uid)
