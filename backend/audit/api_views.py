"""The auditors' API: read-only for everyone (auditors read; nobody, admins included, writes).
Every call is itself recorded in the trail."""
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.permissions import IsAuditor

from . import auditor
from .filters import ReadFilter, TrailFilter
from .serializers import AuditEntrySerializer, ReadRecordSerializer, SignatureSerializer

FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.DATETIME if name in {"since", "until"} else str,
                     description=field.help_text or "")
    for name, field in TrailFilter.base_fields.items()
]
READ_FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.DATETIME if name in {"since", "until"} else str,
                     description=field.help_text or "")
    for name, field in ReadFilter.base_fields.items()
]


def _valid_filter(query, form_class=TrailFilter):
    form = form_class(query)
    if not form.is_valid():
        raise ValidationError(form.errors.get_json_data())
    return form


@extend_schema(parameters=FILTER_PARAMETERS)
class EntryList(ListAPIView):
    """The trail, newest first, filtered by user, action, object and period."""

    permission_classes = [IsAuditor]
    serializer_class = AuditEntrySerializer

    def get_queryset(self):
        form = _valid_filter(self.request.query_params)
        offset = self.request.query_params.get("offset", 0)
        return auditor.read_trail(self.request.user, form, page=offset)


@extend_schema(responses={200: AuditEntrySerializer})
@api_view(["GET"])
@permission_classes([IsAuditor])
def entry_detail(request, seq: int):
    """One entry by its position in the chain."""
    return Response(AuditEntrySerializer(auditor.read_entry(request.user, seq)).data)


@extend_schema(responses={200: inline_serializer("ObjectHistory", {
    "entries": AuditEntrySerializer(many=True),
    "signatures": SignatureSerializer(many=True),
})})
@api_view(["GET"])
@permission_classes([IsAuditor])
def object_history(request, object_type: str, object_id: str):
    """Everything that happened to one object, oldest first, and its signatures."""
    entries, signatures = auditor.object_history(request.user, object_type, object_id)
    return Response({
        "entries": AuditEntrySerializer(entries, many=True).data,
        "signatures": SignatureSerializer(signatures, many=True).data,
    })


@extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsAuditor])
def export_csv(request):
    """The filtered trail as CSV (oldest first), streamed."""
    form = _valid_filter(request.query_params)
    return csv_response(auditor.export_trail(request.user, form))


def csv_response(lines, filename: str = "audit-trail.csv") -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@extend_schema(parameters=READ_FILTER_PARAMETERS)
class ReadList(ListAPIView):
    """The read log (every read of patient data, unchained), newest first, filtered by
    user, patient, series, object, data read and period; a site's auditor sees its site's."""

    permission_classes = [IsAuditor]
    serializer_class = ReadRecordSerializer

    def get_queryset(self):
        form = _valid_filter(self.request.query_params, ReadFilter)
        offset = self.request.query_params.get("offset", 0)
        return auditor.read_reads(self.request.user, form, page=offset)


@extend_schema(parameters=READ_FILTER_PARAMETERS,
               responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
@permission_classes([IsAuditor])
def export_reads_csv(request):
    """The filtered read log as CSV (oldest first), streamed."""
    form = _valid_filter(request.query_params, ReadFilter)
    return csv_response(auditor.export_reads(request.user, form), "audit-reads.csv")


@extend_schema(responses={200: inline_serializer("ChainReport", {
    "intact": serializers.BooleanField(),
    "count": serializers.IntegerField(),
    "head_hash": serializers.CharField(),
    "broken_seq": serializers.IntegerField(allow_null=True),
    "problem": serializers.CharField(),
    "message": serializers.CharField(),
})})
@api_view(["GET"])
@permission_classes([IsAuditor])
def verify(request):
    """Walk the hash chain: ``chain intact (N entries)`` or the first broken link."""
    return Response(auditor.run_verification(request.user).as_dict())
