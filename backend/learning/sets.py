"""Which confirmed results a training set draws, and the patient-level split."""
from django.db.models import Q

from annotations.models import Result, ResultState

from .models import TrainingMember


def eligible_results(site, structure_key: str, modality: str, qa_passed_only: bool):
    """Confirmed results of the structure at the site, with their confirmed mask version;
    with ``qa_passed_only``, only those QA agreed with or whose adjudication upheld them."""
    results = Result.objects.filter(
        state=ResultState.CONFIRMED,
        structure_key=structure_key,
        series__modality__iexact=modality,
        series__study__patient__site=site,
        final_version__isnull=False,
    ).select_related("series__study__patient", "final_version").order_by("pk")
    if qa_passed_only:
        results = results.filter(
            Q(qa_item__state="agreed")
            | Q(qa_item__state="adjudicated", qa_item__adjudication="upheld")
        )
    return results


def earlier_sides(site, structure_key: str, modality: str) -> dict[str, str]:
    """Patients already placed by an earlier set of this structure: they keep their side,
    so no patient moves from validation into training between versions."""
    rows = TrainingMember.objects.filter(
        training_set__site=site, training_set__structure_key=structure_key,
        training_set__modality__iexact=modality,
    ).order_by("pk").values_list("patient_id", "side")
    return dict(rows)
