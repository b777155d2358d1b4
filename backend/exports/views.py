"""Server-rendered export pages: a result's exports (SEG download or PACS push, NIfTI), and a
series' reference masks with a SEG upload. The viewer's own buttons use the API.

Every export writes an export record and audit entries, so it answers POST only (a form
with the CSRF token in its body); the page itself is a GET that writes nothing. A result in
an open blinded QA reading is refused (``review.blinding``), as everywhere else."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.api_views import site_filter
from annotations.models import Result, ResultState
from core.params import parse_id
from imaging.models import Series
from imaging.pacs import PacsUnavailable
from review.blinding import BLINDED_MESSAGE, hide_blinded, is_blinded

from . import actions, stow
from .api_views import file_response
from .comparison import compare_result
from .models import Destination, ReferenceMask
from .results import EXPORTING_ROLES, seg_exportability, why_not_exported
from .seg import SegExportError, SegNotPossible, SegType


def exporters_only(view):
    @wraps(view)
    @never_cache
    @login_required
    def guarded(request, *args, **kwargs):
        if not request.user.has_role(*EXPORTING_ROLES):
            raise PermissionDenied("Exports are open to annotators, reviewers and site "
                                   "administrators.")
        return view(request, *args, **kwargs)

    return guarded


def _site_result(user, pk: int) -> Result:
    if parse_id(pk) is None:
        raise Http404("No such result at your site.")
    result = site_filter(Result.objects.select_related(
        "series__study__patient", "prompt_version", "signature", "final_version", "decided_by",
        "job"), user).filter(pk=pk).first()
    if result is None:
        raise Http404("No such result at your site.")
    if is_blinded(user, result):
        raise PermissionDenied(BLINDED_MESSAGE)
    return result


def _chosen(request, pk: int) -> tuple[list[Result], SegType]:
    """The result of the page plus the other results ticked on it, and the SEG type."""
    source = request.POST
    ticked = [parse_id(v) for v in source.getlist("with")]
    ids = [pk] + list(dict.fromkeys(i for i in ticked if i is not None and i != pk))
    seg_type = SegType.LABELMAP if source.get("type") == SegType.LABELMAP else SegType.BINARY
    return [_site_result(request.user, i) for i in ids], seg_type


@exporters_only
@require_GET
def result_exports(request, pk: int):
    return _page(request, pk)


def _page(request, pk: int, status: int = 200):
    """The export page of result ``pk``: what can be exported and how (a SEG only where the
    series can have one, the PACS only where one is connected), and the exports so far."""
    result = _site_result(request.user, pk)
    confirmed = result.state == ResultState.CONFIRMED
    others = hide_blinded(site_filter(
        Result.objects.filter(series=result.series, state=ResultState.CONFIRMED)
        .exclude(pk=pk).select_related("prompt_version"), request.user), request.user)
    context = {
        "result": result,
        "confirmed": confirmed,
        "why_not": "" if confirmed else why_not_exported(result),
        "seg": seg_exportability(result.series, request.user) if confirmed else None,
        "pacs": stow.pacs_configured(),
        "no_pacs": stow.NO_PACS_MESSAGE,
        "others": others,
        "exports": hide_blinded(result.exports.select_related("created_by"), request.user,
                                "results")[:20],
        "comparison": compare_result(result),
        "seg_types": [t.value for t in SegType],
    }
    return render(request, "exports/result.html", context, status=status)


@exporters_only
@require_POST
def download_seg(request, pk: int):
    """The SEG file itself (Content-Disposition: attachment) in answer to the form's POST; a
    series that cannot have a SEG gets the page again, 409, with the reason."""
    results, seg_type = _chosen(request, pk)
    try:
        return file_response(actions.do_export_seg(request.user, results, seg_type))
    except SegNotPossible as exc:
        messages.error(request, str(exc))
        return _page(request, pk, status=409)
    except SegExportError as exc:
        messages.error(request, str(exc))
    return redirect("exports:result", pk=pk)


@exporters_only
@require_POST
def push_seg(request, pk: int):
    results, seg_type = _chosen(request, pk)
    try:
        export = actions.do_export_seg(request.user, results, seg_type, Destination.PACS)
    except SegNotPossible as exc:
        messages.error(request, str(exc))
        return _page(request, pk, status=409)
    except (SegExportError, PacsUnavailable) as exc:
        messages.error(request, str(exc.detail if isinstance(exc, PacsUnavailable) else exc))
    else:
        messages.success(request, f"Sent to the PACS as SEG {export.record.sop_instance_uid}.")
    return redirect("exports:result", pk=pk)


@exporters_only
@require_POST
def download_nifti(request, pk: int):
    try:
        return file_response(actions.do_export_nifti(request.user, _site_result(request.user,
                                                                                pk)))
    except SegExportError as exc:
        messages.error(request, str(exc))
    return redirect("exports:result", pk=pk)


@exporters_only
@require_http_methods(["GET", "POST"])
def series_references(request, pk: int):
    series = site_filter(Series.objects.select_related("study"), request.user,
                         "study__patient__site").filter(pk=pk).first()
    if series is None:
        raise Http404("No such series at your site.")
    if request.method == "POST" and request.FILES.get("file"):
        try:
            imported = actions.do_import_reference(
                request.user, request.FILES["file"].read(), replace=bool(request.POST.get(
                    "replace")))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            names = ", ".join(f"{r.structure_key} (series {r.series_id})" for r in imported)
            messages.success(request, f"Imported reference masks: {names}.")
        return redirect("exports:references", pk=pk)
    references = ReferenceMask.objects.filter(series=series).select_related("imported_by")
    return render(request, "exports/references.html",
                  {"series": series, "references": references})
