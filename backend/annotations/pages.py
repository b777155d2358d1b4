"""The annotation pages: the worklist, the viewer (the TypeScript app in frontend/src/viewer
does the work; the page carries what it needs) and a read-only record of one result."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.roles import Role
from audit.models import Meaning
from imaging.models import Series

from .models import Result
from .overturning import overturn_reason, returned_to
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
    returned = returned_to(request.user) if request.user.has_role(Role.ANNOTATOR) else []
    for result in returned:
        result.overturn_reason = overturn_reason(result)
    return render(request, "annotations/worklist.html", {
        "rows": rows, "filters": filters, "states": STATES, "modalities": modalities,
        "returned": returned,
        "can_view_images": request.user.has_role(*VIEWER_ROLES),
        "any_running": any("running" in row.states for row in rows),
    })


@login_required
def viewer_page(request, pk: int):
    """The viewer. ``?qa=<QA item>`` opens it as that case's second reading (reviewers
    only): the page then carries only what ``review.blinding`` discloses (``qa_reading``)."""
    _require(request.user, VIEWER_ROLES)
    series = get_object_or_404(
        Series.objects.select_related("study__patient"),
        pk=pk, study__patient__site_id=request.user.site_id,
    )
    if "qa" in request.GET:
        return render(request, "annotations/viewer.html", {
            "series": series, "can_edit": False, "open_result": "",
            "qa": qa_reading(request, series, request.GET["qa"]),
        })
    return render(request, "annotations/viewer.html", {
        "series": series,
        "can_edit": request.user.has_role(Role.ANNOTATOR),
        "open_result": request.GET.get("result", ""),
        "confirm_meaning": Meaning.CONFIRMED.label,
        "reject_meaning": Meaning.REJECTED.label,
    })


def qa_reading(request, series, number: str) -> dict:
    """What the viewer gets for reading QA item ``number`` of ``series``: the case, its mode
    and state, the structure and the approved prompt version (the protocol), and the review
    API's URLs. The confirmed mask's URL only where ``disclosure`` shows the mask; never the
    result, who read it first, their edits, signature, flags or why it was sampled."""
    from core.params import parse_id
    from review.blinding import disclosure
    from review.models import QAItem

    if not request.user.has_role(Role.REVIEWER):
        raise PermissionDenied("Only QA reviewers read QA cases.")
    item_id = parse_id(number)
    if item_id is None:
        raise Http404(f"No QA item {str(number)[:40]!r}.")
    item = get_object_or_404(
        QAItem.objects.select_related("result__prompt_version__entry", "result__final_version"),
        pk=item_id, site=request.user.site_id, result__series=series,
    )
    shown = disclosure(item, request.user)
    api = f"/api/v1/review/items/{item.pk}"
    return {
        "item": item.pk,
        "mode": item.mode,
        "state": item.state,
        "state_display": item.get_state_display(),
        "mine": item.reviewer_id == request.user.pk,
        "structure": item.result.prompt_version.entry.name or item.result.structure_key,
        "prompt_version": item.result.prompt_version_id,
        "prompt_label": item.result.prompt_version.label,
        "reader_mask_stored": bool(item.reader_mask_sha256),
        "item_url": api,
        "mask_url": f"{api}/mask" if shown.confirmed_mask else "",
        "reader_mask_url": f"{api}/reader-mask" if item.independent else "",
        "verdict_url": f"{api}/verdict",
        "case_url": reverse("review:item", args=[item.pk]),
    }


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
        "overturn_reason": overturn_reason(result) if result.state == "overturned" else "",
    })
