from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import metrics as app_metrics
from .readiness import readiness


@never_cache
@require_GET
def livez(request):
    """The process answers: the orchestrator restarts it when this fails."""
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request):
    """Database reachable and migrated, broker reachable: the load balancer sends traffic."""
    body, ready = readiness()
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request):
    """Prometheus exposition. With ``MEDSAM_METRICS_TOKEN`` set, a scrape must send it as a
    bearer token; the figures carry no patient data either way."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not constant_time_compare(sent, f"Bearer {token}"):
            return HttpResponse("metrics need the scrape token\n", status=401,
                                content_type="text/plain")
    body, content_type = app_metrics.exposition()
    return HttpResponse(body, content_type=content_type)
