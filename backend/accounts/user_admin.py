"""A site administrator's account actions: create a user, disable or enable one, reset a
password; and everyone's own password change. Each is one audited change (see
``audit.user_changes.intend``); role changes are ``actions.do_set_roles``.

There is no e-mail invitation: the product runs without outside network access. A new account
or a reset gets a temporary password, shown once to the administrator to hand over in person
or by the site's own channel. It opens nothing but the page to choose one's own password
(``User.must_change_password``), so the administrator never holds a working password of
someone else's, and signatures stay the user's own.
"""
import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.user_changes import intend

from .models import User

_ALPHABET = string.ascii_letters + string.digits
TEMPORARY_LENGTH = 16


def temporary_password() -> str:
    """16 letters and digits (about 95 bits) with at least one of each."""
    while True:
        text = "".join(secrets.choice(_ALPHABET) for _ in range(TEMPORARY_LENGTH))
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text


def _check_admin_of(actor: User, user: User | None = None) -> None:
    if not actor.has_role("site_admin"):
        raise PermissionDenied("Only a site administrator manages user accounts.")
    if user is not None and user.site_id != actor.site_id:
        raise PermissionDenied("You can only manage users of your own site.")


def do_create_user(actor: User, *, username: str, printed_name: str, email: str = "",
                   roles: list[str] = (), reason: str = "") -> tuple[User, str]:
    """A new account of the actor's site; returns it with its temporary password."""
    _check_admin_of(actor)
    username = username.strip()
    if not username:
        raise ValidationError({"username": "A user name is required."})
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The user name {username!r} is taken."})
    if not printed_name.strip():
        raise ValidationError({"printed_name": "The full name shown on signatures is required."})
    roles = sorted(set(roles))
    password = temporary_password()
    with transaction.atomic():
        user = User(username=username, printed_name=printed_name.strip(), email=email.strip(),
                    site_id=actor.site_id, must_change_password=True)
        user.set_password(password)
        intend(user, "user.create", reason, actor)
        user.save()
        if roles:  # do_set_roles refuses unknown or conflicting roles; this all rolls back
            from .actions import do_set_roles

            do_set_roles(actor, user, roles, reason="roles of the new account")
    return user, password


def do_set_active(actor: User, user: User, active: bool, *, reason: str) -> User:
    """Disable (``active=False``) or enable an account. A disabled account cannot sign in,
    its open sessions end at their next request, and it keeps its history and signatures."""
    _check_admin_of(actor, user)
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot disable or enable your own account.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why (it is kept in the audit trail)."})
    if user.is_active == active:
        state = "active" if active else "disabled"
        raise ValidationError({"is_active": f"{user.username} is already {state}."})
    with transaction.atomic():
        user.is_active = active
        intend(user, "user.enable" if active else "user.disable", reason.strip(), actor)
        user.save(update_fields=["is_active"])
    return user


def do_reset_password(actor: User, user: User, *, reason: str) -> str:
    """A new temporary password for ``user`` (returned once); their sessions end, and their
    next sign-in must choose a new password."""
    _check_admin_of(actor, user)
    if user.pk == actor.pk:
        raise PermissionDenied("Change your own password on your password page instead.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why (it is kept in the audit trail)."})
    password = temporary_password()
    with transaction.atomic():
        user.set_password(password)  # a new hash: every session of the user ends
        user.must_change_password = True
        intend(user, "user.password_reset", reason.strip(), actor)
        user.save(update_fields=["password", "must_change_password"])
    from . import throttle

    throttle.clear_failures(user.username)
    return password


def do_change_own_password(user: User, *, current: str, new: str) -> User:
    """The user's own new password, checked by the site's password rules."""
    if not user.check_password(current):
        raise ValidationError({"current_password": "The current password is not correct."})
    if current == new:
        raise ValidationError({"new_password": "Choose a password other than the current one."})
    try:
        validate_password(new, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from None
    with transaction.atomic():
        user.set_password(new)
        user.must_change_password = False
        intend(user, "user.password_change", actor=user)
        user.save(update_fields=["password", "must_change_password"])
    return user
