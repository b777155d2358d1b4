"""Login throttling by account and by client address, stored in the database so every web
process sees the same count."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def locked_out(username: str, client_address: str | None) -> bool:
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    if recent.filter(username__iexact=username).count() >= settings.LOGIN_FAILURE_LIMIT:
        return True
    if client_address is None:
        return False
    by_address = recent.filter(client_address=client_address).count()
    return by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def note_failure(username: str, client_address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], client_address=client_address)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username__iexact=username).delete()


LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts. Sign-in is locked for this account for "
    "{minutes} minutes; ask a site administrator if you need access sooner."
)


def lockout_message() -> str:
    return LOCKOUT_MESSAGE.format(minutes=settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
