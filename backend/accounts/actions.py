"""Audited account actions: sign-in, sign-out, user and role changes."""
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.trail import record_event

from . import throttle
from .addresses import client_address
from .models import User


class LoginRefused(Exception):
    pass


def do_login(request, username: str, password: str) -> User:
    """Authenticate and start a session, or raise LoginRefused with the reason to show.

    The form and the API both come here, so both meet ``throttle``'s limits: per account
    with backoff, and per client address (``addresses.client_address``) without denying a
    correct password for an account that is not locked."""
    address = client_address(request)
    # One transaction from the lock check to the failure count, with the account's row locked
    # (throttle.hold_account): parallel guesses at one account are checked one after another.
    with transaction.atomic():
        throttle.hold_account(username)
        refused = throttle.refusal(username, address)
        if refused is not None:
            record_event(
                action="session.login_locked", object_type="accounts.user", object_id=username,
                reason=refused,
            )
        else:
            user = authenticate(request, username=username, password=password)
            if user is None:
                throttle.note_failure(username, address)
                record_event(
                    action="session.login_failed", object_type="accounts.user",
                    object_id=username,
                )
                refused = "The user name or password is not correct."
            else:
                login(request, user)
                # The sign-in is the session's first activity: without it, a session that
                # makes no request after signing in would start its idle clock only at its next
                # request, and would not be logged off then however long it had been idle.
                from .middleware import record_activity

                record_activity(request)
                throttle.clear_failures(username)
                record_event(action="session.login", actor=user, target=user)
    if refused is not None:
        raise LoginRefused(refused)
    return user


def do_logout(request, reason: str = "") -> None:
    user = request.user
    with transaction.atomic():
        if user.is_authenticated:
            record_event(action="session.logout", actor=user, target=user, reason=reason)
        logout(request)


def do_set_roles(actor: User, user: User, roles: list[str], reason: str = "") -> None:
    """Replace ``user``'s roles, as ``actor``, with the sets before and after in the trail.

    Separation of duties: only a site administrator of the user's site changes roles, nobody
    changes their own (``PermissionDenied``), and a combination holding a pair of
    ``settings.ROLE_CONFLICTS`` is refused (``ValidationError`` naming the pair)."""
    from django.contrib.auth.models import Group
    from django.core.exceptions import ValidationError

    from .roles import check_role_combination

    if not actor.has_role("site_admin"):
        raise PermissionDenied("Only a site administrator can change roles.")
    if user.pk == actor.pk:
        raise PermissionDenied(
            "Nobody may change their own roles (separation of duties); ask another site "
            "administrator."
        )
    if user.site_id != actor.site_id:
        raise PermissionDenied("You can only change the roles of users of your own site.")
    roles = sorted(set(roles))
    check_role_combination(roles)
    with transaction.atomic():
        old = sorted(user.groups.values_list("name", flat=True))
        groups = list(Group.objects.filter(name__in=roles))
        unknown = set(roles) - {g.name for g in groups}
        if unknown:
            raise ValidationError({"roles": f"Unknown role(s): {', '.join(sorted(unknown))}"})
        user.groups.set(groups)
        user.__dict__.pop("_role_names", None)
        record_event(
            action="user.set_roles",
            actor=actor,
            target=user,
            old={"roles": old},
            new={"roles": roles},
            reason=reason,
        )
