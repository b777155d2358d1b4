"""REST API of the prompt library. Reads are open to every signed-in user of the site (the
viewer lists and resolves entries); every write is a prompt administrator's action."""
import json

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsPromptAdmin
from audit.signatures import SignatureRefused

from . import actions, selectors
from .bundle import dumps
from .diff import field_changes, side_by_side
from .serializers import (
    ApproveSerializer,
    ContentSerializer,
    EntrySerializer,
    ReasonSerializer,
    ResolvedSerializer,
    VersionSerializer,
)
from .source import parse_yaml


def _content(request) -> dict:
    body = ContentSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    if "content" in body.validated_data:
        return body.validated_data["content"]
    document, problems = parse_yaml(body.validated_data["yaml"], "yaml")
    if problems:
        raise ValidationError([str(p) for p in problems])
    return document


class EntryList(APIView):
    def get_permissions(self):
        return [IsPromptAdmin()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(responses=EntrySerializer(many=True),
                   parameters=[OpenApiParameter("modality", str, required=False)])
    def get(self, request):
        entries = selectors.site_entries(request.user.site, request.query_params.get("modality"))
        return Response(EntrySerializer(entries, many=True).data)

    @extend_schema(request=ContentSerializer, responses={201: VersionSerializer})
    def post(self, request):
        version = actions.do_create_entry(request.user, request.user.site, _content(request))
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class EntryDetail(APIView):
    @extend_schema(responses=VersionSerializer(many=True), operation_id="prompt_entry_versions")
    def get(self, request, key):
        entry = selectors.site_entries(request.user.site).filter(key=key).first()
        if entry is None:
            return Response({"detail": "No such entry."}, status=status.HTTP_404_NOT_FOUND)
        return Response(VersionSerializer(entry.versions.all(), many=True).data)


class VersionDetail(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request, pk):
        return Response(VersionSerializer(selectors.site_version(request.user.site, pk)).data)


class VersionDiff(APIView):
    @extend_schema(parameters=[OpenApiParameter("a", int), OpenApiParameter("b", int)],
                   responses=dict)
    def get(self, request):
        try:
            a_id, b_id = int(request.query_params["a"]), int(request.query_params["b"])
        except (KeyError, ValueError) as exc:
            raise ValidationError("Give two version ids: ?a=...&b=...") from exc
        a = selectors.site_version(request.user.site, a_id)
        b = selectors.site_version(request.user.site, b_id)
        return Response({
            "a": a.label, "b": b.label,
            "changes": [c.as_dict() for c in field_changes(a.content, b.content)],
            "side_by_side": [row.__dict__ for row in side_by_side(a.content, b.content)],
        })


class DraftContent(APIView):
    """PUT /versions/<id>/content/ changes a draft (JSON ``content`` or ``yaml`` text)."""

    permission_classes = [IsPromptAdmin]

    @extend_schema(request=ContentSerializer, responses=VersionSerializer)
    def put(self, request, pk):
        version = selectors.site_version(request.user.site, pk)
        version = actions.do_update_draft(request.user, version, _content(request))
        return Response(VersionSerializer(version).data)


def _version_action(name, serializer=None, created=False):
    """POST /versions/<id>/<action>/ for edit (a new draft), submit, approve, reject, retire."""

    class View(APIView):
        permission_classes = [IsPromptAdmin]

        @extend_schema(request=serializer, responses=VersionSerializer,
                       operation_id=f"prompt_version_{name}")
        def post(self, request, pk):
            version = selectors.site_version(request.user.site, pk)
            args = {}
            if serializer is not None:
                body = serializer(data=request.data)
                body.is_valid(raise_exception=True)
                args = body.validated_data
            try:
                result = getattr(actions, f"do_{name}")(request.user, version, **args)
            except SignatureRefused as exc:
                raise ValidationError(str(exc)) from exc
            code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
            return Response(VersionSerializer(result).data, status=code)

    View.__name__ = f"Version{name.title().replace('_', '')}"
    return View


CreateDraft = _version_action("create_draft", created=True)
Submit = _version_action("submit")
Approve = _version_action("approve", ApproveSerializer)
Reject = _version_action("reject", ReasonSerializer)
Retire = _version_action("retire", ReasonSerializer)


class Resolve(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("modality", str)],
                   responses=ResolvedSerializer(many=True))
    def get(self, request):
        text, modality = request.query_params.get("q", ""), request.query_params.get("modality")
        if not modality:
            raise ValidationError("Give the series' modality: ?modality=CT")
        rows = [
            {"key": m.key, "name": m.name, "score": m.score, "matched": m.matched,
             "version_id": v.pk, "instructions": v.content["instructions"],
             "interaction": v.content["interaction"]}
            for m, v in selectors.resolve_for_site(request.user.site, text, modality)
        ]
        return Response(ResolvedSerializer(rows, many=True).data)


class Export(APIView):
    permission_classes = [IsPromptAdmin]

    @extend_schema(request=None, parameters=[OpenApiParameter("keys", str, required=False)],
                   responses={(200, "application/json"): dict})
    def post(self, request):
        keys = [k for k in request.query_params.get("keys", "").split(",") if k]
        bundle = actions.do_export_bundle(request.user, request.user.site, keys or None)
        response = HttpResponse(dumps(bundle), content_type="application/json")
        name = f"prompt-library-{request.user.site.code}-{bundle['items_sha256'][:8]}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _bundle_bytes(request) -> tuple[bytes, str]:
    upload = request.FILES.get("bundle")
    if upload is not None:
        return upload.read(), upload.name
    if request.data:
        return json.dumps(request.data).encode(), "bundle"
    raise ValidationError("Send the bundle file as the multipart field 'bundle' or as JSON.")


class Import(APIView):
    """POST import/preview/ shows what differs; POST import/ creates the drafts."""

    permission_classes = [IsPromptAdmin]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    preview = False

    @extend_schema(request=dict, responses=dict)
    def post(self, request):
        raw, name = _bundle_bytes(request)
        if self.preview:
            header, lines = actions.preview_import(request.user.site, raw, name)
            return Response({"source_site": header.get("source_site"),
                             "items_sha256": header["items_sha256"],
                             "lines": [line.__dict__ for line in lines]})
        drafts = actions.do_import_bundle(request.user, request.user.site, raw, name)
        return Response(VersionSerializer(drafts, many=True).data, status=status.HTTP_201_CREATED)
