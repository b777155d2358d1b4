"""Counts and times every request, and writes one access log line per request that names the
route pattern, never the concrete path or query (which may carry identifiers)."""
import logging
import re
import time

from django.conf import settings

from .metrics import REQUEST_SECONDS, REQUESTS

access_log = logging.getLogger("medsam.access")
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    if not match.route:
        return match.view_name or "unnamed"
    # Regular-expression routes (DRF routers) keep their anchors in the joined route.
    return "/" + re.sub(r"(^|/)\^", r"\1", match.route).rstrip("$")


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        route = route_of(request)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(method, route).observe(elapsed)
        if settings.ACCESS_LOG:
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s", method, route, response.status_code,
                extra={
                    "http_method": method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
        return response
