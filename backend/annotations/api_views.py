"""Jobs and results API. Views are thin: changes go through ``annotations.actions``."""
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from audit import reads
from audit.signatures import SignatureRefused

from .actions import do_cancel_job, do_reassign_result, do_submit_job
from .confirmation import (
    Conflict,
    decode_upload,
    do_confirm_result,
    do_reject_result,
    do_save_edit,
)
from .corrections import do_submit_correction
from .models import Job, Result
from .prefetch import do_request_prefetch
from .serializers import (
    CancelSerializer,
    CorrectionSerializer,
    DecisionSerializer,
    EditSerializer,
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    MaskVersionSerializer,
    PrefetchResponseSerializer,
    PrefetchSerializer,
    ReassignSerializer,
    ResultSerializer,
)

CanSeeResults = HasRole.of(Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN)


def id_param(params, name: str) -> int | None:
    """An integer query parameter, or a 400 naming it."""
    from rest_framework.exceptions import ValidationError

    value = params.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or int(value) >= 2**63:
        raise ValidationError({name: f"{name} must be a whole number, not {value[:40]!r}."})
    return int(value)


def site_filter(queryset, user, path="series__study__patient__site"):
    site_id = getattr(user, "site_id", None)
    return queryset.filter(**{path: site_id}) if site_id else queryset.none()


class JobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Segmentation jobs of the user's site. Filters: ``study``, ``series``, ``status``,
    ``user`` (a user id, or ``me``)."""

    lookup_field = "public_id"

    def get_permissions(self):
        if self.action in ("create", "cancel"):
            return [HasRole.of(Role.ANNOTATOR, Role.SITE_ADMIN)()]
        return [CanSeeResults()]

    def get_serializer_class(self):
        if self.action == "create":
            return JobCreateSerializer
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    def get_queryset(self):
        jobs = site_filter(Job.objects.select_related("created_by", "series", "result"),
                           self.request.user)
        # A job names who ran it and the state of its result: hidden, with the result,
        # while that result is in a blinded QA reading of this user (review.blinding).
        from review.blinding import hide_blinded

        jobs = hide_blinded(hide_blinded(jobs, self.request.user, "result"),
                            self.request.user, "corrects")
        params = self.request.query_params
        if (study := id_param(params, "study")) is not None:
            jobs = jobs.filter(series__study_id=study)
        if (series := id_param(params, "series")) is not None:
            jobs = jobs.filter(series_id=series)
        if params.get("status"):
            jobs = jobs.filter(status__in=params["status"].split(","))
        if params.get("user") == "me":
            jobs = jobs.filter(created_by_id=self.request.user.pk)
        elif (user := id_param(params, "user")) is not None:
            jobs = jobs.filter(created_by_id=user)
        return jobs

    @extend_schema(
        parameters=[
            OpenApiParameter("study", int), OpenApiParameter("series", int),
            OpenApiParameter("status", str, description="comma-separated statuses"),
            OpenApiParameter("user", str, description="a user id or 'me'"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=JobCreateSerializer,
        responses={201: JobSerializer, 200: JobSerializer},
        description="Start a segmentation. The same inputs again return the existing job "
        "(200) instead of a new one (201).",
    )
    def create(self, request, *args, **kwargs):
        data = JobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job, created = do_submit_job(request.user, **data.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(JobSerializer(job).data, status=code)

    @extend_schema(request=CancelSerializer, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        """Cancel a queued job, or stop a running one (it ends as cancelled shortly)."""
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = do_cancel_job(request.user, self.get_object(), data.validated_data.get("reason", ""))
        return Response(JobSerializer(job).data)


class ResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Results of the user's site, with provenance, flags, mask versions, transitions and the
    signature of the confirmation or rejection."""

    serializer_class = ResultSerializer

    def get_permissions(self):
        if self.action in ("edit", "confirm", "reject", "correct"):
            return [HasRole.of(Role.ANNOTATOR)()]
        if self.action == "reassign":
            return [HasRole.of(Role.ANNOTATOR, Role.SITE_ADMIN)()]
        return [CanSeeResults()]

    def get_queryset(self):
        results = site_filter(
            Result.objects.select_related(
                "job", "prompt_version", "signature", "final_version", "owner"
            ).prefetch_related("mask_versions__created_by", "transitions__actor"),
            self.request.user,
        )
        # A reviewer cannot open a case here while its blinded QA reading is open.
        from review.blinding import blinded_results

        results = results.exclude(pk__in=blinded_results(self.request.user))
        params = self.request.query_params
        if (series := id_param(params, "series")) is not None:
            results = results.filter(series_id=series)
        if params.get("state"):
            results = results.filter(state__in=params["state"].split(","))
        return results

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="default: the latest")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def mask(self, request, pk=None):
        """The mask as bit-packed, zlib-compressed bytes (C order, shape in ``X-Mask-Shape``
        as slices,rows,cols). Inflate, unpack bits most-significant first, reshape."""
        result = self.get_object()
        number = id_param(request.query_params, "version")
        versions = result.mask_versions.all()
        if number is not None:
            version = get_object_or_404(versions, number=number)
        else:
            version = versions.order_by("-number").first()
        # In the read log and, like every mask download, in the chained trail.
        reads.record_read(version, "mask", actor=request.user, action="mask.read",
                          details={"result": result.pk, "version": version.number})
        response = HttpResponse(bytes(version.data), content_type="application/octet-stream")
        response["X-Mask-Shape"] = ",".join(str(v) for v in version.shape)
        response["X-Mask-Version"] = str(version.number)
        response["X-Mask-SHA256"] = version.sha256
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(request=EditSerializer, responses={201: MaskVersionSerializer})
    @action(detail=True, methods=["post"], url_path="versions")
    def edit(self, request, pk=None):
        """Save an edited mask as a new version (the AI original and earlier edits stay)."""
        result = self.get_object()
        data = EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        latest = result.latest_mask()
        mask = decode_upload(data.validated_data["data"], latest.shape)
        try:
            version = do_save_edit(request.user, result, data.validated_data["base_version"],
                                   mask, data.validated_data.get("note", ""))
        except Conflict as conflict:
            return Response(conflict.message_dict, status=status.HTTP_409_CONFLICT)
        return Response(MaskVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CorrectionSerializer,
                   responses={202: JobSerializer, 200: JobSerializer})
    @action(detail=True, methods=["post"], url_path="corrections")
    def correct(self, request, pk=None):
        """Correct the draft from one prompt on one slice: a job re-segments only the affected
        run of slices and stores a new mask version (poll the job; ``mask_version`` names it).
        The same correction again returns the live job (200)."""
        result = self.get_object()
        data = CorrectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            job, created = do_submit_correction(
                request.user, result, values["base_version"], values["slice"], values["boxes"],
                values.get("points"))
        except Conflict as conflict:
            return Response(conflict.message_dict, status=status.HTTP_409_CONFLICT)
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(JobSerializer(job).data, status=code)

    def _decide(self, request, decide):
        result = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        extra = {}
        if values.get("supersedes") is not None:
            extra["supersedes"] = values["supersedes"]
        try:
            decided = decide(request.user, result, values["version"], values["password"],
                             values.get("reason", ""), **extra)
        except SignatureRefused as refused:
            return Response({"password": [str(refused)]}, status=status.HTTP_403_FORBIDDEN)
        except Conflict as conflict:
            return Response(conflict.message_dict, status=status.HTTP_409_CONFLICT)
        return Response(ResultSerializer(self.get_queryset().get(pk=decided.pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: ResultSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm the shown mask version as accurate: an electronic signature (password)."""
        return self._decide(request, do_confirm_result)

    @extend_schema(request=DecisionSerializer, responses={200: ResultSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the result with a reason: an electronic signature (password)."""
        if request.data.get("supersedes") not in (None, ""):
            return Response({"supersedes": ["Only a confirmation supersedes a result."]},
                            status=status.HTTP_400_BAD_REQUEST)
        return self._decide(request, do_reject_result)

    @extend_schema(request=ReassignSerializer, responses={200: ResultSerializer})
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Hand an unconfirmed draft to another annotator of the site (its owner, or a site
        admin); audited with the owners before and after and the reason."""
        from accounts.models import User

        result = self.get_object()
        data = ReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new_owner = User.objects.filter(pk=data.validated_data["owner"]).first()
        if new_owner is None or new_owner.site_id != request.user.site_id:
            return Response({"owner": ["No user of this site has that id."]},
                            status=status.HTTP_400_BAD_REQUEST)
        reassigned = do_reassign_result(request.user, result, new_owner,
                                        data.validated_data["reason"])
        return Response(ResultSerializer(self.get_queryset().get(pk=reassigned.pk)).data)


class PrefetchView(APIView):
    """Ask a worker to embed the slice shown and its neighbours before the user prompts, so
    the first prompt there is quick (annotations.prefetch). A hint: nothing is recorded."""

    permission_classes = [HasRole.of(Role.ANNOTATOR)]

    @extend_schema(request=PrefetchSerializer, responses={202: PrefetchResponseSerializer})
    def post(self, request):
        data = PrefetchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        asked = do_request_prefetch(request.user, values["series"], values["prompt_version"],
                                    values["slices"])
        return Response(asked, status=status.HTTP_202_ACCEPTED)
