"""Who read a case, and who may therefore neither review nor adjudicate it."""
from annotations.models import Result

from .models import QAItem


def first_readers(result: Result) -> set[int]:
    """Everyone who produced the confirmed reading: who ran the job, who edited the mask and
    who signed the confirmation."""
    ids = {result.job.created_by_id, result.decided_by_id}
    ids |= set(result.mask_versions.exclude(created_by=None).values_list("created_by", flat=True))
    return {i for i in ids if i is not None}


def readers(item: QAItem) -> set[int]:
    ids = first_readers(item.result)
    if item.reviewer_id is not None:
        ids.add(item.reviewer_id)
    return ids
