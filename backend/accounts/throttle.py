"""Sign-in throttling that cannot be turned into a site-wide lockout.

One set of rules for every password check: the sign-in form (``/accounts/login/``), the API
sign-in (``POST /api/v1/accounts/session``) and the e-signature's password
(``audit.signatures``). State is in the database, so every web process sees the same counts.

Per account, with backoff
    ``LOGIN_FAILURE_LIMIT`` failed passwords for one user name within
    ``LOGIN_FAILURE_WINDOW_SECONDS`` lock that name only, for ``LOGIN_LOCKOUT_BASE_SECONDS``;
    each further lock (without a successful sign-in, and within
    ``LOGIN_LOCKOUT_RESET_SECONDS`` of the last failure) doubles, up to
    ``LOGIN_LOCKOUT_MAX_SECONDS``. A correct password clears the account's state. Attempts
    refused while locked are not password checks and do not extend the lock. Names that match
    no account are treated the same way, so a lock says nothing about which names exist.

Per client address, never denying anyone else
    An address with ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures within the window is *flooding*.
    From a flooding address, an attempt is refused without checking the password when the name
    matches no active account, or when that name has already failed from this address within
    the window. Every other attempt is checked as usual, so a user whose account is not locked
    and who types the right password signs in from the same address (the proxy of a whole
    hospital, a shared NAT) while it floods. What a flooding address keeps is at most one guess
    per real account per window, and each of those guesses counts toward that account's lock.
    The price: a user behind a flooding address who mistypes once must wait for the window to
    pass (the message says so).

The address is ``accounts.addresses.client_address``: ``X-Forwarded-For`` only from a
configured trusted proxy (``TRUSTED_PROXIES``), else ``REMOTE_ADDR``.

Why not django-axes (8.3.1 on PyPI, not installed here): it locks by address, by user name,
or by the pair. Locking by address is the hospital-wide outage this module replaces; by user
name alone does nothing against one address trying many names; by the pair does not slow
spraying at all. The rule above (flooding addresses refused only for unknown or already
failing names) is none of its modes, its cool-off is fixed rather than doubling, and it would
wrap ``authenticate`` for the e-signature check as well, bringing its own middleware,
backend and tables beside the ones the trail already audits. A short module over two tables
does exactly the rule and is tested here.
"""
import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import AccountLockout, LoginFailure


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def lock_seconds(level: int) -> int:
    """Length of the ``level``-th lock in a row (1, 2, ...): base, doubled each time, capped."""
    base = settings.LOGIN_LOCKOUT_BASE_SECONDS
    return int(min(base * 2 ** max(level - 1, 0), settings.LOGIN_LOCKOUT_MAX_SECONDS))


def hold_account(username: str) -> None:
    """Serialise password checks of one user name: lock its lockout row (made if missing) for
    the rest of the caller's transaction. Call it inside ``transaction.atomic()`` before
    ``refusal`` and keep the password check, ``note_failure`` and ``clear_failures`` in the
    same transaction. Without it, parallel requests all pass the lock check before any of
    their failures is counted, and an attacker gets as many guesses as requests in flight,
    not ``LOGIN_FAILURE_LIMIT``. (On SQLite the immediate transaction already serialises every
    writer; on PostgreSQL this row lock serialises only that name's sign-ins.)"""
    key = _key(username)
    for _ in range(3):
        row, _ = AccountLockout.objects.get_or_create(username=key)
        if AccountLockout.objects.select_for_update().filter(pk=row.pk).exists():
            return
        # Another transaction deleted the row while we waited for it (old bookkeeping swept).
    raise RuntimeError(f"could not lock the sign-in state of {key!r}")


def account_locked_until(username: str):
    """When the lock on ``username`` ends, or None when it is not locked."""
    row = AccountLockout.objects.filter(
        username=_key(username), locked_until__gt=timezone.now()
    ).only("locked_until").first()
    return row.locked_until if row else None


def address_flooding(client_address: str | None) -> bool:
    if not client_address:
        return False
    failures = LoginFailure.objects.filter(client_address=client_address, at__gte=_window_start())
    return failures.count() >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def _refused_at_flooding_address(username: str, client_address: str) -> bool:
    from .models import User

    if not User.objects.filter(username=username, is_active=True).exists():
        return True
    return LoginFailure.objects.filter(
        username__iexact=username, client_address=client_address, at__gte=_window_start()
    ).exists()


ACCOUNT_LOCKED = (
    "Too many failed sign-in attempts. Sign-in is locked for this account for {minutes} more "
    "minute(s); ask a site administrator if you need access sooner."
)
ADDRESS_THROTTLED = (
    "Too many failed sign-in attempts from this address. For up to {minutes} minutes it may "
    "not retry user names that failed here or that are not known; other accounts sign in as "
    "usual."
)


def refusal(username: str, client_address: str | None) -> str | None:
    """Why this attempt is refused before its password is checked, or None to check it."""
    until = account_locked_until(username)
    if until is not None:
        minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
        return ACCOUNT_LOCKED.format(minutes=minutes)
    if address_flooding(client_address) and _refused_at_flooding_address(username,
                                                                         client_address):
        return ADDRESS_THROTTLED.format(
            minutes=max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60))
    return None


def locked_out(username: str, client_address: str | None) -> bool:
    return refusal(username, client_address) is not None


def note_failure(username: str, client_address: str | None) -> None:
    """Count a failed password for ``username`` from ``client_address``; lock the account
    (longer each time) when it reaches the limit. Call inside a transaction."""
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    reset = timedelta(seconds=settings.LOGIN_LOCKOUT_RESET_SECONDS)
    LoginFailure.objects.create(username=username[:150], client_address=client_address)
    row, _ = AccountLockout.objects.select_for_update().get_or_create(username=_key(username))
    if row.last_failure_at is not None:
        if now - row.last_failure_at > window:
            row.failures = 0
        if now - row.last_failure_at > reset:
            row.level = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= settings.LOGIN_FAILURE_LIMIT:
        row.level += 1
        row.failures = 0
        row.locked_until = now + timedelta(seconds=lock_seconds(row.level))
    row.save()
    # Old bookkeeping goes, so made-up names cannot grow the tables without bound.
    keep = max(window, reset)
    LoginFailure.objects.filter(at__lt=now - keep).delete()
    AccountLockout.objects.filter(last_failure_at__lt=now - reset).exclude(
        locked_until__gte=now).delete()


def clear_failures(username: str) -> None:
    """A correct password: the account's failures and backoff are forgotten (the row stays,
    reset, so a sign-in waiting on its lock in ``hold_account`` still finds it)."""
    LoginFailure.objects.filter(username__iexact=username).delete()
    AccountLockout.objects.filter(username=_key(username)).update(
        failures=0, level=0, locked_until=None)


LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts. Sign-in is locked for this account for a while; ask "
    "a site administrator if you need access sooner."
)


def lockout_message(username: str | None = None, client_address: str | None = None) -> str:
    if username is not None:
        return refusal(username, client_address) or LOCKOUT_MESSAGE
    return LOCKOUT_MESSAGE
