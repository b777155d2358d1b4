"""Exports and reference masks API. Views are thin: the work is in :mod:`exports.actions`.

An unconfirmed result is refused with 403 and the reason, a SEG over a series that cannot
have one (no Frame of Reference UID...) with 409 and the reason, a push without a PACS with
502 in the user's words; results and series of another
site, and results in an open blinded QA reading (``review.blinding``), are not found (404).
An export writes an export record and audit entries, so it is a POST (CSRF-protected for a
browser session); reading the list of exports or a comparison is a GET.
"""
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from annotations.api_views import site_filter
from annotations.models import Result
from audit.trail import record_event
from core.params import id_param, int_param, parse_id
from review.blinding import hide_blinded

from . import actions
from .comparison import compare_result
from .models import Destination, ExportRecord, ReferenceMask
from .results import EXPORTING_ROLES
from .seg import SegExportError, SegNotPossible, SegType
from .serializers import (
    ExportRecordSerializer,
    ReferenceMaskSerializer,
    ReferencePacsSerializer,
    ReferenceUploadSerializer,
    SegRequestSerializer,
)

CanExport = HasRole.of(*EXPORTING_ROLES)
SEG_RESPONSE = {(200, "application/dicom"): OpenApiTypes.BINARY}
NIFTI_RESPONSE = {(200, "application/gzip"): OpenApiTypes.BINARY}


def site_results(user, ids) -> list[Result]:
    """The results with these ids in the given order; 404 for any not of the user's site or
    blinded to the user (an open QA reading), and for an id that cannot name a row."""
    for raw in ids:
        if parse_id(raw) is None:
            raise NotFound(f"No result {str(raw)[:40]} at your site.")
    ids = [int(i) for i in ids]
    found = hide_blinded(site_filter(
        Result.objects.select_related("series__study__patient", "prompt_version", "signature",
                                      "final_version", "decided_by", "job"), user,
    ), user).in_bulk(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"No result {missing[0]} at your site.")
    return [found[i] for i in dict.fromkeys(ids)]


def file_response(export: actions.ExportFile) -> HttpResponse:
    response = HttpResponse(export.data, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Export-Id"] = str(export.record.pk)
    response["X-Content-SHA256"] = export.record.sha256
    response["Cache-Control"] = "private, no-store"
    return response


class SegNotPossibleHere(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "seg_not_possible"


def refused_as_400(run):
    """SegExportError as a 400 with its reason; a series over which no SEG can be made at all
    (``SegNotPossible``: no Frame of Reference UID...) as a 409 with its reason."""
    try:
        return run()
    except SegNotPossible as exc:
        raise SegNotPossibleHere(str(exc)) from None
    except SegExportError as exc:
        raise ValidationError({"detail": str(exc)}) from None


def _seg_request(request) -> SegRequestSerializer:
    """``{results, type}`` from a JSON body or a form (``results`` repeated or comma-separated);
    a 400 naming the field when it is malformed."""
    body = request.data
    if hasattr(body, "getlist"):
        parts = [part for value in body.getlist("results") for part in str(value).split(",")]
        body = {"results": [p.strip() for p in parts if p.strip()],
                "type": str(body.get("type", SegType.BINARY.value)).upper()}
    elif isinstance(body, dict) and isinstance(body.get("type"), str):
        body = {**body, "type": body["type"].upper()}
    data = SegRequestSerializer(data=body)
    data.is_valid(raise_exception=True)
    return data


class SegDownloadView(APIView):
    """POST ``{results, type}``: a DICOM SEG of confirmed results of one series, handed out
    (an export record and an audit entry per result are written, hence a POST)."""

    permission_classes = [CanExport]

    @extend_schema(request=SegRequestSerializer, responses=SEG_RESPONSE)
    def post(self, request):
        data = _seg_request(request)
        results = site_results(request.user, data.validated_data["results"])
        seg_type = SegType(data.validated_data["type"])
        return refused_as_400(lambda: file_response(
            actions.do_export_seg(request.user, results, seg_type)))


class SegPushView(APIView):
    """POST ``{results, type}``: build the SEG and send it to the PACS over STOW-RS."""

    permission_classes = [CanExport]

    @extend_schema(request=SegRequestSerializer, responses={201: ExportRecordSerializer})
    def post(self, request):
        data = SegRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = site_results(request.user, data.validated_data["results"])
        export = refused_as_400(lambda: actions.do_export_seg(
            request.user, results, SegType(data.validated_data["type"]), Destination.PACS))
        return Response(ExportRecordSerializer(export.record).data, status.HTTP_201_CREATED)


class NiftiDownloadView(APIView):
    """POST: the confirmed mask of one result as .nii.gz with the series' affine (an export
    record and an audit entry are written, hence a POST)."""

    permission_classes = [CanExport]

    @extend_schema(request=None, responses=NIFTI_RESPONSE)
    def post(self, request, pk: int):
        result = site_results(request.user, [pk])[0]
        return refused_as_400(lambda: file_response(
            actions.do_export_nifti(request.user, result)))


class ExportListView(ListAPIView):
    """Exports of the user's site, newest first; ``result`` filters by result id."""

    permission_classes = [CanExport]
    serializer_class = ExportRecordSerializer

    def get_queryset(self):
        user = self.request.user
        exports = hide_blinded(site_filter(ExportRecord.objects.select_related("created_by")
                                           .prefetch_related("results"), user), user, "results")
        if (result := id_param(self.request.query_params, "result")) is not None:
            exports = exports.filter(results=result)
        return exports

    @extend_schema(parameters=[OpenApiParameter("result", int)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReferenceListView(APIView):
    """GET reference masks of the site (``series`` filters); POST a SEG file to import."""

    permission_classes = [CanExport]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(parameters=[OpenApiParameter("series", int)],
                   responses={200: ReferenceMaskSerializer(many=True)})
    def get(self, request):
        references = site_filter(ReferenceMask.objects.select_related("imported_by"),
                                 request.user)
        if (series := id_param(request.query_params, "series")) is not None:
            references = references.filter(series_id=series)
        return Response(ReferenceMaskSerializer(references, many=True).data)

    @extend_schema(request={"multipart/form-data": ReferenceUploadSerializer},
                   responses={201: ReferenceMaskSerializer(many=True)})
    def post(self, request):
        data = ReferenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        references = actions.do_import_reference(
            request.user, values["file"].read(), structures=values.get("structures"),
            replace=values["replace"])
        return Response(ReferenceMaskSerializer(references, many=True).data,
                        status.HTTP_201_CREATED)


class ReferencePacsView(APIView):
    """POST ``{study_uid, series_uid, sop_uid}``: fetch a SEG from the PACS and import it."""

    permission_classes = [CanExport]

    @extend_schema(request=ReferencePacsSerializer,
                   responses={201: ReferenceMaskSerializer(many=True)})
    def post(self, request):
        data = ReferencePacsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        references = actions.do_import_reference_from_pacs(
            request.user, values["study_uid"], values["series_uid"], values["sop_uid"],
            structures=values.get("structures"), replace=values["replace"])
        return Response(ReferenceMaskSerializer(references, many=True).data,
                        status.HTTP_201_CREATED)


class ResultComparisonView(APIView):
    """GET the Dice of a result against the reference mask of its series and structure."""

    permission_classes = [CanExport]

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="mask version (default: the "
                                     "decided one, else the latest)")],
        responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        result = site_results(request.user, [pk])[0]
        number = int_param(request.query_params, "version", minimum=1, maximum=2**31 - 1)
        try:
            comparison = compare_result(result, number)
        except LookupError as error:
            raise ValidationError({"version": str(error)}) from None
        if comparison is None:
            raise NotFound("No reference mask of this structure on this series.")
        reference = get_object_or_404(ReferenceMask, pk=comparison["reference"])
        record_event(action="reference.compare", actor=request.user, target=reference,
                     new={"result": result.pk, "dice": comparison["dice"]})
        return Response(comparison)
