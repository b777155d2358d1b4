from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
def healthz(request):
    body, healthy = health.report()
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request):
    return render(request, "core/home.html")
