"""QA API: the review queue and its steps, metrics, prompt-version alerts, the site's QA
policy and audit reports. Views are thin: every change goes through ``review.actions``."""
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import HasRole
from accounts.roles import Role
from annotations.confirmation import decode_upload
from audit import reads
from audit.signatures import SignatureRefused
from audit.trail import record_event
from prompts.models import PromptVersion

from . import actions, metrics
from .blinding import disclosure
from .models import AuditReport, PromptVersionAlert, QAItem, WatchedAnnotator
from .serializers import (
    AcknowledgeSerializer,
    AdjudicationSerializer,
    AlertSerializer,
    MetricsQuerySerializer,
    PolicySerializer,
    QAItemSerializer,
    QAReasonSerializer,
    ReaderMaskSerializer,
    ReportRequestSerializer,
    ReportSerializer,
    VerdictSerializer,
    WatchRequestSerializer,
    WatchSerializer,
)

IsReviewer = HasRole.of(Role.REVIEWER)
IsAuditor = HasRole.of(Role.AUDITOR)
IsPromptAdmin = HasRole.of(Role.PROMPT_ADMIN)
IsSiteAdmin = HasRole.of(Role.SITE_ADMIN)
CanSeeMetrics = HasRole.of(Role.REVIEWER, Role.PROMPT_ADMIN, Role.AUDITOR, Role.SITE_ADMIN)


def user_site(request) -> int | None:
    """The signed-in user's site (None while the schema is generated without a user)."""
    return getattr(request.user, "site_id", None)


def mask_response(data: bytes, shape, sha256: str) -> HttpResponse:
    response = HttpResponse(bytes(data), content_type="application/octet-stream")
    response["X-Mask-Shape"] = ",".join(str(v) for v in shape)
    response["X-Mask-SHA256"] = sha256
    response["Cache-Control"] = "private, no-store"
    return response


class QAItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The QA queue of the reviewer's site. Filter ``state`` (comma-separated)."""

    serializer_class = QAItemSerializer
    permission_classes = [IsReviewer]

    def get_queryset(self):
        items = QAItem.objects.filter(site=user_site(self.request)).select_related(
            "result__series__study", "result__prompt_version__entry", "result__final_version",
            "result__decided_by", "result__signature", "result__job", "reviewer", "adjudicator",
            "review_signature", "adjudication_signature",
        ).prefetch_related("transitions__actor")
        if self.request.query_params.get("state"):
            items = items.filter(state__in=self.request.query_params["state"].split(","))
        return items

    def _respond(self, item):
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=None, responses=QAItemSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Take the case: you become its second reader."""
        return self._respond(actions.do_start_review(request.user, self.get_object()))

    @extend_schema(request=QAReasonSerializer, responses=QAItemSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Hand the case back to the queue, with a reason."""
        data = QAReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._respond(actions.do_release_review(request.user, self.get_object(),
                                                       data.validated_data["reason"]))

    @extend_schema(request=ReaderMaskSerializer, responses=QAItemSerializer)
    @action(detail=True, methods=["post"], url_path="reader-mask")
    def reader_mask(self, request, pk=None):
        """Independent mode: store your own mask before seeing the confirmed one."""
        item = self.get_object()
        data = ReaderMaskSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mask = decode_upload(data.validated_data["data"], item.result.final_version.shape)
        return self._respond(actions.do_submit_reader_mask(request.user, item, mask))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def mask(self, request, pk=None):
        """The confirmed mask (encoding as the annotations mask download); refused while the
        reading is blind to it."""
        item = self.get_object()
        if not disclosure(item, request.user).confirmed_mask:
            raise PermissionDenied("This reading is blind: store your own mask first.")
        version = item.result.final_version
        reads.record_read(version, "mask", actor=request.user, action="mask.read",
                          details={"result": item.result_id, "version": version.number,
                                   "qa_item": item.pk})
        return mask_response(version.data, version.shape, version.sha256)

    def _signed(self, request, serializer_class, act):
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            item = act(request.user, self.get_object(), data.validated_data)
        except SignatureRefused as refused:
            return Response({"password": [str(refused)]}, status=status.HTTP_403_FORBIDDEN)
        return self._respond(item)

    @extend_schema(request=VerdictSerializer, responses=QAItemSerializer)
    @action(detail=True, methods=["post"])
    def verdict(self, request, pk=None):
        """Agree or disagree with the confirmed mask (a reason when disagreeing), signed."""
        return self._signed(request, VerdictSerializer, lambda user, item, v: (
            actions.do_record_verdict(user, item, v["verdict"], v.get("reason", ""),
                                      v["password"])))

    @extend_schema(request=AdjudicationSerializer, responses=QAItemSerializer)
    @action(detail=True, methods=["post"])
    def adjudicate(self, request, pk=None):
        """Rule on a disagreement (neither reader may), signed."""
        return self._signed(request, AdjudicationSerializer, lambda user, item, v: (
            actions.do_adjudicate(user, item, v["outcome"], v["reason"], v["password"])))


def scope_from(user, values: dict) -> metrics.Scope:
    return metrics.Scope(
        site_id=user.site_id, start=values.get("start"), end=values.get("end"),
        structure_key=values.get("structure", ""),
        prompt_version_id=values.get("prompt_version"),
        annotator_id=values.get("annotator"), engine=values.get("engine", ""), viewer=user,
    )


@extend_schema(parameters=[MetricsQuerySerializer], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@permission_classes([CanSeeMetrics])
def metrics_view(request):
    """Accept / edit / reject rates, Dice and volume difference AI vs confirmed, reader
    agreement and time to confirmation, overall and per group (``group_by``)."""
    query = MetricsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    values = query.validated_data
    scope = scope_from(request.user, values)
    return Response({
        "group_by": values["group_by"],
        "period": values["period"],
        "overall": metrics.overall(scope).as_dict(),
        "groups": [g.as_dict() for g in metrics.compute(scope, values["group_by"],
                                                        values["period"])],
    })


class AlertViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Prompt versions flagged for heavy edits or frequent rejections. ``open=1``: only those
    not yet acknowledged."""

    serializer_class = AlertSerializer

    def get_permissions(self):
        if self.action == "acknowledge":
            return [IsPromptAdmin()]
        return [HasRole.of(Role.PROMPT_ADMIN, Role.AUDITOR)()]

    def get_queryset(self):
        alerts = PromptVersionAlert.objects.filter(site=user_site(self.request)).select_related(
            "prompt_version__entry", "acknowledged_by")
        if self.request.query_params.get("open"):
            alerts = alerts.filter(acknowledged_at__isnull=True)
        return alerts

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = actions.do_acknowledge_alert(request.user, self.get_object(),
                                             data.validated_data["note"])
        return Response(AlertSerializer(alert).data)


@extend_schema(methods=["GET"], responses=PolicySerializer)
@extend_schema(methods=["PATCH"], request=PolicySerializer, responses=PolicySerializer)
@api_view(["GET", "PATCH"])
@permission_classes([HasRole.of(Role.SITE_ADMIN, Role.REVIEWER, Role.AUDITOR)])
def policy_view(request):
    """The site's QA policy; site administrators change it (with an optional ``reason``)."""
    site = request.user.site
    if request.method == "PATCH":
        if not request.user.has_role(Role.SITE_ADMIN):
            raise PermissionDenied("Only a site administrator can change the QA policy.")
        data = PolicySerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        reason = changes.pop("reason", "")
        return Response(PolicySerializer(actions.do_update_policy(request.user, site, changes,
                                                                  reason)).data)
    return Response(PolicySerializer(actions.policy_for(site)).data)


@extend_schema(methods=["GET"], responses=WatchSerializer(many=True))
@extend_schema(methods=["POST"], request=WatchRequestSerializer, responses=WatchSerializer)
@api_view(["GET", "POST"])
@permission_classes([IsSiteAdmin])
def watched_view(request):
    """Annotators whose every confirmed result is reviewed."""
    site = request.user.site
    if request.method == "POST":
        data = WatchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        annotator = get_object_or_404(User, pk=data.validated_data["annotator"])
        watch = actions.do_watch_annotator(request.user, site, annotator,
                                           data.validated_data["reason"])
        return Response(WatchSerializer(watch).data, status=status.HTTP_201_CREATED)
    watches = WatchedAnnotator.objects.filter(site=site).select_related("annotator", "added_by")
    return Response(WatchSerializer(watches, many=True).data)


@extend_schema(request=QAReasonSerializer, responses={204: None})
@api_view(["POST"])
@permission_classes([IsSiteAdmin])
def unwatch_view(request, user_id: int):
    data = QAReasonSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    annotator = get_object_or_404(User, pk=user_id, site_id=request.user.site_id)
    actions.do_unwatch_annotator(request.user, request.user.site, annotator,
                                 data.validated_data["reason"])
    return Response(status=status.HTTP_204_NO_CONTENT)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit reports of the auditor's site: request one, follow its progress, download it."""

    serializer_class = ReportSerializer
    permission_classes = [IsAuditor]
    lookup_field = "public_id"

    def get_queryset(self):
        return AuditReport.objects.filter(site=user_site(self.request)).select_related(
            "requested_by", "annotator", "prompt_version__entry", "site")

    @extend_schema(request=ReportRequestSerializer, responses={201: ReportSerializer})
    def create(self, request):
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        annotator = (get_object_or_404(User, pk=values["annotator"])
                     if values.get("annotator") else None)
        version = (get_object_or_404(PromptVersion, pk=values["prompt_version"])
                   if values.get("prompt_version") else None)
        report = actions.do_request_report(
            request.user, values["period_start"], values["period_end"],
            values.get("structure_key", ""), annotator, version)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)

    def _download(self, request, kind: str):
        report = self.get_object()
        if report.status != "succeeded":
            return Response({"status": [f"The report is {report.status}; nothing to download "
                                        "yet."]}, status=status.HTTP_409_CONFLICT)
        stored = report.pdf_file if kind == "pdf" else report.csv_file
        with transaction.atomic():
            record_event(action="report.download", actor=request.user, target=report,
                         new={"format": kind})
        with stored.open("rb") as handle:
            body = handle.read()
        response = HttpResponse(body, content_type="application/pdf" if kind == "pdf"
                                else "text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{stored.name.rsplit("/", 1)[-1]}"')
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, public_id=None):
        return self._download(request, "pdf")

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def csv(self, request, public_id=None):
        return self._download(request, "csv")
