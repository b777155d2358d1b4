"""Who is acting and from where, for the audit entries written during this request or task.

The web middleware sets it per request; Celery tasks set it per task. Action functions do not
need to pass the client address around: ``record_event`` reads it from here.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    client_address: str | None = None
    channel: str = "web"  # web, api, worker, command


_current: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext(None, ""))  # noqa: B039 (frozen)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def acting_from(client_address: str | None, channel: str):
    token = _current.set(AuditContext(client_address, channel))
    try:
        yield
    finally:
        _current.reset(token)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting_from(request.META.get("REMOTE_ADDR"), channel):
            return self.get_response(request)
