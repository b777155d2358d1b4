"""What the browser needs around the jobs and results API: the worklist (series of the user's
site with the state of each structure's result) and the viewer's description of a series
(its frames in the order of the assembled volume, so a stack index is a mask slice index)."""
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from core.people import printed_person_name
from imaging import access
from imaging.models import Series
from imaging.permissions import CanViewImages
from model.imaging.errors import ImagingError
from model.imaging.series import plan_series

from .models import Job, JobStatus, Result, ResultState
from .overturning import overturn_reason

CanSeeWorklist = HasRole.of(Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN, Role.AUDITOR)

STATES = ("none", "running", "draft", "edited", "confirmed", "overturned", "rejected",
          "failed")
"""Worklist states of a structure on a series; ``none`` means nothing was started yet."""

_RESULT_STATE = {
    ResultState.AI_DRAFT: "draft",
    ResultState.EDITED: "edited",
    ResultState.CONFIRMED: "confirmed",
    ResultState.REJECTED: "rejected",
    ResultState.OVERTURNED: "overturned",
}


@dataclass
class StructureState:
    key: str
    name: str
    state: str
    result: int | None = None
    job: str | None = None
    flagged: bool = False
    note: str = ""  # why, where the state needs one (the adjudicator's reason for overturned)


@dataclass
class WorklistRow:
    series: Series
    structures: list[StructureState] = field(default_factory=list)

    @property
    def states(self) -> set[str]:
        return {s.state for s in self.structures} or {"none"}

    def as_dict(self) -> dict:
        study = self.series.study
        return {
            "series": self.series.pk,
            "series_uid": self.series.series_instance_uid,
            "study_uid": study.study_instance_uid,
            "modality": self.series.modality,
            "description": self.series.description,
            "images": self.series.image_count,
            "problem": self.series.problem,
            "patient_name": study.patient.name,
            "patient_display_name": printed_person_name(study.patient.name),
            "patient_id": study.patient.patient_id,
            "study_date": study.study_date,
            "accession": study.accession_number,
            "study_description": study.description,
            "structures": [s.__dict__ for s in self.structures],
        }


def _structures(user, series_ids: list[int]) -> dict[int, list[StructureState]]:
    """Per series, per structure: the newest live job or result decides the state. Results in
    the user's open blinded QA readings stay out, as the results API keeps them out."""
    from review.blinding import blinded_results

    found: dict[int, dict[str, StructureState]] = {}
    jobs = Job.objects.filter(series_id__in=series_ids).select_related("prompt_version")
    for job in jobs.order_by("created_at", "id"):
        name = job.prompt_version.content.get("name", job.structure_key)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            state = StructureState(job.structure_key, name, "running", job=str(job.public_id))
        elif job.status == JobStatus.FAILED:
            state = StructureState(job.structure_key, name, "failed", job=str(job.public_id))
        else:
            continue
        found.setdefault(job.series_id, {})[job.structure_key] = state
    results = (
        Result.objects.filter(series_id__in=series_ids)
        .exclude(state=ResultState.SUPERSEDED)
        .exclude(pk__in=blinded_results(user))
        .select_related("prompt_version", "job")
    )
    for result in results.order_by("created_at", "id"):
        current = found.setdefault(result.series_id, {}).get(result.structure_key)
        if current and current.state == "running" and current.job != str(result.job.public_id):
            continue
        found[result.series_id][result.structure_key] = StructureState(
            result.structure_key,
            result.prompt_version.content.get("name", result.structure_key),
            _RESULT_STATE[result.state],
            result=result.pk,
            job=str(result.job.public_id),
            flagged=bool(result.flags),
            note=overturn_reason(result) if result.state == ResultState.OVERTURNED else "",
        )
    return {
        series: sorted(states.values(), key=lambda s: s.name) for series, states in found.items()
    }


def worklist(user, *, modality: str = "", state: str = "", text: str = "") -> list[WorklistRow]:
    """Series of the user's site, newest study first, filtered by modality, structure state
    and text (patient name or id, accession, description). The read is audited."""
    series = (
        Series.objects.filter(study__patient__site_id=user.site_id)
        .select_related("study__patient")
        .annotate(image_count=Count("instances"))
        .order_by("-study__study_date", "-study_id", "series_number", "id")
    )
    if modality:
        series = series.filter(modality__iexact=modality)
    if text:
        series = series.filter(
            Q(study__patient__name__icontains=text) | Q(study__patient__patient_id__icontains=text)
            | Q(study__accession_number__icontains=text) | Q(description__icontains=text)
            | Q(study__description__icontains=text)
        )
    series = list(series[:500])
    structures = _structures(user, [s.pk for s in series])
    rows = [WorklistRow(s, structures.get(s.pk, [])) for s in series]
    if state:
        rows = [row for row in rows if state in row.states]
    access.record_read(None, "worklist", actor=user, count=len(rows))
    return rows


class WorklistView(APIView):
    permission_classes = [CanSeeWorklist]

    @extend_schema(
        parameters=[
            OpenApiParameter("modality", str), OpenApiParameter("q", str),
            OpenApiParameter("state", str, enum=list(STATES)),
        ],
        responses={200: OpenApiTypes.ANY},
    )
    def get(self, request):
        """Series of the user's site with the state of each structure's result."""
        params = request.query_params
        rows = worklist(request.user, modality=params.get("modality", ""),
                        state=params.get("state", ""), text=params.get("q", "").strip())
        return Response({"series": [row.as_dict() for row in rows]})


def series_layout(series: Series, actor) -> dict:
    """The series as the viewer shows it: frames in volume order (slice k of a mask is entry
    k here), the volume shape, and why it cannot be segmented, if it cannot."""
    headers = access.series_datasets(series, "viewer layout", actor=actor, headers_only=True)
    instances = list(series.instances.all())
    problem = series.problem
    try:
        plan = plan_series(headers)
        frames = [
            {"sop_uid": instances[ref.dataset_index].sop_instance_uid,
             "frame": ref.frame_index + 1}
            for ref in plan.order
        ]
        rows, cols = plan.rows, plan.cols
    except ImagingError as exc:
        problem = problem or str(exc)
        frames = [
            {"sop_uid": instance.sop_instance_uid, "frame": number}
            for instance in instances
            for number in range(1, instance.number_of_frames + 1)
        ]
        rows = instances[0].rows if instances else 0
        cols = instances[0].columns if instances else 0
    study = series.study
    return {
        "series": series.pk,
        "study_uid": study.study_instance_uid,
        "series_uid": series.series_instance_uid,
        "modality": series.modality,
        "description": series.description,
        "patient_name": study.patient.name,
        "patient_display_name": printed_person_name(study.patient.name),
        "patient_id": study.patient.patient_id,
        "study_date": study.study_date,
        "shape": [len(frames), rows, cols],
        "frames": frames,
        "problem": problem,
        "orientation_established": series.orientation_is_established(headers),
    }


class SeriesLayoutView(APIView):
    permission_classes = [CanViewImages]

    @extend_schema(responses={200: OpenApiTypes.ANY})
    def get(self, request, pk: int):
        """Frames of the series in the order of the assembled volume, and its shape."""
        series = get_object_or_404(
            Series.objects.select_related("study__patient"),
            pk=pk, study__patient__site_id=request.user.site_id,
        )
        return Response(series_layout(series, request.user))
