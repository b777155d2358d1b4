"""The annotation pages: the worklist, the viewer (the TypeScript app in frontend/src/viewer
does the work; the page carries what it needs) and a read-only record of one result."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, render

from accounts.roles import Role
from audit.models import Meaning
from imaging.models import Series

from .models import Result
from .worklist import STATES, worklist

WORKLIST_ROLES = (Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN, Role.AUDITOR)
VIEWER_ROLES = (Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN)


def _require(user, roles) -> None:
    if not user.has_role(*roles):
        raise PermissionDenied("Your role does not allow this page.")


@login_required
def worklist_page(request):
    _require(request.user, WORKLIST_ROLES)
    filters = {
        "modality": request.GET.get("modality", "").strip(),
        "state": request.GET.get("state", "") if request.GET.get("state") in STATES else "",
        "text": request.GET.get("q", "").strip(),
    }
    rows = worklist(request.user, **filters)
    modalities = sorted(
        {m for m in Series.objects.filter(study__patient__site_id=request.user.site_id)
         .values_list("modality", flat=True) if m}
    )
    return render(request, "annotations/worklist.html", {
        "rows": rows, "filters": filters, "states": STATES, "modalities": modalities,
        "can_view_images": request.user.has_role(*VIEWER_ROLES),
        "any_running": any("running" in row.states for row in rows),
    })


@login_required
def viewer_page(request, pk: int):
    _require(request.user, VIEWER_ROLES)
    series = get_object_or_404(
        Series.objects.select_related("study__patient"),
        pk=pk, study__patient__site_id=request.user.site_id,
    )
    return render(request, "annotations/viewer.html", {
        "series": series,
        "can_edit": request.user.has_role(Role.ANNOTATOR),
        "open_result": request.GET.get("result", ""),
        "confirm_meaning": Meaning.CONFIRMED.label,
        "reject_meaning": Meaning.REJECTED.label,
    })


@login_required
def result_page(request, pk: int):
    """Everything recorded about one result, for reviewers and auditors: provenance, flags,
    every mask version, every transition and the signature. The page names the patient, so
    opening it is recorded as a read of patient data (``imaging.read``)."""
    _require(request.user, WORKLIST_ROLES)
    result = get_object_or_404(
        Result.objects.select_related(
            "series__study__patient", "prompt_version__entry", "job__created_by",
            "final_version", "signature", "owner", "superseded_by",
        ).prefetch_related("mask_versions__created_by", "transitions__actor"),
        pk=pk, series__study__patient__site_id=request.user.site_id,
    )
    from review.blinding import blinded_results

    if blinded_results(request.user).filter(result=result.pk).exists():
        raise PermissionDenied("This result is in a blinded QA reading; open it from the "
                               "review queue.")
    from imaging.access import record_read

    from .staleness import stale_reason

    with transaction.atomic():
        record_read(result, "result record", actor=request.user)
    return render(request, "annotations/result.html", {
        "result": result,
        "versions": result.mask_versions.all(),
        "can_view_images": request.user.has_role(*VIEWER_ROLES),
        "stale_reason": stale_reason(result) if result.state in ("ai_draft", "edited") else "",
    })
