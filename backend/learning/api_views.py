"""The learning API: training sets, fine-tune jobs (start, progress, cancel), model versions
with their validation reports, and unannotated series ordered by the model's uncertainty."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from prompts.models import PromptVersion, VersionState

from . import actions, uncertainty
from .models import ModelVersion, TrainingJob, TrainingSet
from .serializers import (
    CancelTrainingSerializer,
    ModelVersionSerializer,
    NewTrainingJobSerializer,
    NewTrainingSetSerializer,
    TrainingJobSerializer,
    TrainingSetSerializer,
)

CanTrain = HasRole.of(Role.PROMPT_ADMIN, Role.SITE_ADMIN)
CanSeeWorklist = HasRole.of(Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN, Role.PROMPT_ADMIN)


def _whole_number(value, name: str) -> int:
    """A whole-number id from the request, or a 400 naming the field."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise BadRequest({name: f"{name} must be the id (a whole number) of one of your site's."})


def _refused(problem):
    if isinstance(problem, PermissionDenied):
        return Response({"detail": str(problem)}, status=status.HTTP_403_FORBIDDEN)
    raise BadRequest(getattr(problem, "message_dict", None) or problem.messages)


class TrainingSetList(APIView):
    permission_classes = [CanTrain]
    serializer_class = TrainingSetSerializer

    @extend_schema(operation_id="v1_learning_sets_list",
                   responses=TrainingSetSerializer(many=True))
    def get(self, request):
        sets = TrainingSet.objects.filter(site=request.user.site)
        return Response(TrainingSetSerializer(sets, many=True).data)

    @extend_schema(request=NewTrainingSetSerializer, responses={201: TrainingSetSerializer})
    def post(self, request):
        asked = NewTrainingSetSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        try:
            created = actions.do_create_training_set(
                request.user, request.user.site, data["structure_key"], data["modality"],
                qa_passed_only=data["qa_passed_only"],
                validation_fraction=data["validation_fraction"])
        except (PermissionDenied, ValidationError) as problem:
            return _refused(problem)
        return Response(TrainingSetSerializer(created).data, status=status.HTTP_201_CREATED)


class TrainingJobList(APIView):
    permission_classes = [CanTrain]
    serializer_class = TrainingJobSerializer

    @extend_schema(operation_id="v1_learning_jobs_list",
                   responses=TrainingJobSerializer(many=True))
    def get(self, request):
        jobs = TrainingJob.objects.filter(training_set__site=request.user.site)
        return Response(TrainingJobSerializer(jobs, many=True).data)

    @extend_schema(request=NewTrainingJobSerializer, responses={201: TrainingJobSerializer})
    def post(self, request):
        asked = NewTrainingJobSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        training_set = get_object_or_404(TrainingSet, pk=data["training_set"],
                                         site=request.user.site)
        try:
            job = actions.do_start_training(request.user, training_set, data["base_engine"],
                                            data["config"])
        except (PermissionDenied, ValidationError) as problem:
            return _refused(problem)
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_201_CREATED)


class TrainingJobDetail(APIView):
    permission_classes = [CanTrain]
    serializer_class = TrainingJobSerializer

    def get(self, request, public_id):
        job = get_object_or_404(TrainingJob, public_id=public_id,
                                training_set__site=request.user.site)
        return Response(TrainingJobSerializer(job).data)


class CancelTraining(APIView):
    permission_classes = [CanTrain]
    serializer_class = TrainingJobSerializer

    @extend_schema(request=CancelTrainingSerializer, responses={200: TrainingJobSerializer})
    def post(self, request, public_id):
        job = get_object_or_404(TrainingJob, public_id=public_id,
                                training_set__site=request.user.site)
        asked = CancelTrainingSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            job = actions.do_cancel_training(request.user, job, asked.validated_data["reason"])
        except (PermissionDenied, ValidationError) as problem:
            return _refused(problem)
        return Response(TrainingJobSerializer(job).data)


class ModelVersionList(APIView):
    permission_classes = [CanTrain]
    serializer_class = ModelVersionSerializer

    @extend_schema(operation_id="v1_learning_models_list",
                   responses=ModelVersionSerializer(many=True))
    def get(self, request):
        versions = ModelVersion.objects.filter(site=request.user.site)
        return Response(ModelVersionSerializer(versions, many=True).data)


class UncertaintyList(APIView):
    """``?prompt_version=<id>``: the entry's unannotated series, least confident first
    (scored by the ``learning.score_uncertainty`` task; unscored series come last)."""

    permission_classes = [CanSeeWorklist]

    @extend_schema(
        parameters=[OpenApiParameter("prompt_version", int, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        version_id = _whole_number(request.query_params.get("prompt_version"), "prompt_version")
        version = get_object_or_404(PromptVersion, pk=version_id,
                                    state=VersionState.APPROVED, entry__site=request.user.site)
        return Response({"prompt_version": version.pk, "structure_key": version.entry.key,
                         "series": uncertainty.ordered(request.user.site, version)})
