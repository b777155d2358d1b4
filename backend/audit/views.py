"""The auditor pages: browse and filter the trail, one object's history, CSV export, the
read log (every read of patient data) and the chain check. Read-only; only the auditor role
gets in (site administrators included out)."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Role

from . import auditor
from .api_views import csv_response
from .filters import ReadFilter, TrailFilter
from .reads import window_seconds
from .signatures import checked

PAGE_SIZE = 100


def auditor_only(view):
    @wraps(view)
    @never_cache
    @require_GET
    @login_required
    def guarded(request, *args, **kwargs):
        if not request.user.has_role(Role.AUDITOR):
            raise PermissionDenied("The audit trail is open to auditors only.")
        return view(request, *args, **kwargs)

    return guarded


def _paged(request, rows) -> dict:
    """The page asked for and the filter query without it, for a list page's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page", 1)),
            "query": query.urlencode()}


@auditor_only
def trail(request):
    form = TrailFilter(request.GET)
    if not form.is_valid():
        return render(request, "audit/trail.html", {"form": form}, status=400)
    page = request.GET.get("page", 1)
    context = {**_paged(request, auditor.read_trail(request.user, form, page)), "form": form}
    return render(request, "audit/trail.html", context)


@auditor_only
def entry(request, seq: int):
    return render(request, "audit/entry.html", {"entry": auditor.read_entry(request.user, seq)})


@auditor_only
def object_history(request, object_type: str, object_id: str):
    entries, signatures = auditor.object_history(request.user, object_type, object_id)
    context = {
        "object_type": object_type,
        "object_id": object_id,
        "entries": entries,
        "signatures": checked(signatures),
    }
    return render(request, "audit/object_history.html", context)


@auditor_only
def export_csv(request):
    form = TrailFilter(request.GET)
    if not form.is_valid():
        return render(request, "audit/trail.html", {"form": form}, status=400)
    return csv_response(auditor.export_trail(request.user, form))


@auditor_only
def reads(request):
    """The read log: every read of patient data, the per-image ones included."""
    form = ReadFilter(request.GET)
    seconds = window_seconds()
    window = f"{seconds // 60}-minute" if seconds % 60 == 0 else f"{seconds}-second"
    if not form.is_valid():
        return render(request, "audit/reads.html", {"form": form, "window": window},
                      status=400)
    page = request.GET.get("page", 1)
    context = {**_paged(request, auditor.read_reads(request.user, form, page)),
               "form": form, "window": window}
    return render(request, "audit/reads.html", context)


@auditor_only
def export_reads_csv(request):
    form = ReadFilter(request.GET)
    if not form.is_valid():
        return render(request, "audit/reads.html", {"form": form}, status=400)
    return csv_response(auditor.export_reads(request.user, form), "audit-reads.csv")


@auditor_only
def verify(request):
    return render(request, "audit/verify.html", {"report": auditor.run_verification(request.user)})
