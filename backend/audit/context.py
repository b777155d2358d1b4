"""Who is acting and from where, for the audit entries written during this request or task.

The web middleware sets it per request; Celery tasks and commands set it with ``acting_from``.
Action functions do not need to pass the client address around: ``record_event`` reads it from
here, and takes the actor from here when the caller names none.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from accounts.addresses import client_address  # X-Forwarded-For only from trusted proxies


@dataclass(frozen=True)
class AuditContext:
    client_address: str | None = None
    channel: str = "web"  # web, api, worker, command
    # The signed-in user, or a function returning it: the request's user is looked up when an
    # entry is written, after DRF has authenticated the request.
    actor: Any = None

    def current_actor(self):
        return self.actor() if callable(self.actor) else self.actor


_current: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext(None, ""))  # noqa: B039 (frozen)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def acting_from(client_address: str | None, channel: str, actor=None):
    token = _current.set(AuditContext(client_address, channel, actor))
    try:
        yield
    finally:
        _current.reset(token)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        def actor():
            return getattr(request, "user", None)

        with acting_from(client_address(request), channel, actor):
            return self.get_response(request)
