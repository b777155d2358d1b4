"""Exports and reference masks API. Views are thin: the work is in :mod:`exports.actions`.

An unconfirmed result is refused with 403 and the reason; results and series of another
site are not found (404).
"""
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from annotations.api_views import site_filter
from annotations.models import Result
from audit.trail import record_event

from . import actions
from .comparison import compare_result
from .models import Destination, ExportRecord, ReferenceMask
from .results import EXPORTING_ROLES
from .seg import SegExportError, SegType
from .serializers import (
    ExportRecordSerializer,
    ReferenceMaskSerializer,
    ReferencePacsSerializer,
    ReferenceUploadSerializer,
    SegRequestSerializer,
)

CanExport = HasRole.of(*EXPORTING_ROLES)
FILE_RESPONSE = {(200, "application/octet-stream"): OpenApiTypes.BINARY}


def site_results(user, ids) -> list[Result]:
    """The results with these ids in the given order; 404 for any not of the user's site."""
    found = site_filter(
        Result.objects.select_related("series__study__patient", "prompt_version", "signature",
                                      "final_version", "decided_by", "job"), user,
    ).in_bulk(ids)
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


def refused_as_400(run):
    try:
        return run()
    except SegExportError as exc:
        raise ValidationError({"detail": str(exc)}) from None


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationError({"results": "Give result ids separated by commas."}) from None
    if any(not 0 < i < 2**63 for i in ids):
        raise ValidationError({"results": "Result ids are positive 64-bit numbers."})
    return ids


class SegDownloadView(APIView):
    """GET a DICOM SEG of confirmed results of one series (``results=1,2``)."""

    permission_classes = [CanExport]

    @extend_schema(
        parameters=[OpenApiParameter("results", str, required=True,
                                     description="comma-separated result ids"),
                    OpenApiParameter("type", str, enum=[t.value for t in SegType])],
        responses=FILE_RESPONSE,
    )
    def get(self, request):
        data = SegRequestSerializer(data={
            "results": _ids(request.query_params.get("results", "")),
            "type": request.query_params.get("type", SegType.BINARY.value).upper(),
        })
        data.is_valid(raise_exception=True)
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
    """GET the confirmed mask of one result as .nii.gz with the series' affine."""

    permission_classes = [CanExport]

    @extend_schema(responses=FILE_RESPONSE)
    def get(self, request, pk: int):
        result = site_results(request.user, [pk])[0]
        return refused_as_400(lambda: file_response(
            actions.do_export_nifti(request.user, result)))


class ExportListView(ListAPIView):
    """Exports of the user's site, newest first; ``result`` filters by result id."""

    permission_classes = [CanExport]
    serializer_class = ExportRecordSerializer

    def get_queryset(self):
        exports = site_filter(ExportRecord.objects.select_related("created_by")
                              .prefetch_related("results"), self.request.user)
        if self.request.query_params.get("result"):
            exports = exports.filter(results=self.request.query_params["result"])
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
        if request.query_params.get("series"):
            references = references.filter(series_id=request.query_params["series"])
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
        raw = request.query_params.get("version")
        if raw is not None and not raw.isdigit():
            raise ValidationError({"version": "Give a mask version number, e.g. version=2."})
        try:
            comparison = compare_result(result, int(raw) if raw is not None else None)
        except LookupError as error:
            raise ValidationError({"version": str(error)}) from None
        if comparison is None:
            raise NotFound("No reference mask of this structure on this series.")
        reference = get_object_or_404(ReferenceMask, pk=comparison["reference"])
        record_event(action="reference.compare", actor=request.user, target=reference,
                     new={"result": result.pk, "dice": comparison["dice"]})
        return Response(comparison)
