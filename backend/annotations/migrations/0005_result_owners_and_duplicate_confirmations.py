"""Fill Result.owner from the job's requester; settle duplicate confirmed results (the latest
confirmation stays confirmed, earlier ones become superseded by it, with a transition row)."""
from django.db import migrations
from django.utils import timezone


def owners_and_duplicates(apps, schema_editor):
    Result = apps.get_model("annotations", "Result")
    ResultTransition = apps.get_model("annotations", "ResultTransition")
    for result in Result.objects.filter(owner__isnull=True).select_related("job"):
        Result.objects.filter(pk=result.pk).update(owner_id=result.job.created_by_id)
    confirmed = Result.objects.filter(state="confirmed").order_by(
        "series_id", "structure_key", "-decided_at", "-id")
    kept = {}
    for result in confirmed:
        key = (result.series_id, result.structure_key)
        if key not in kept:
            kept[key] = result
            continue
        newer = kept[key]
        ResultTransition.objects.create(
            result=result, from_state="confirmed", to_state="superseded", at=timezone.now(),
            reason=f"migration annotations 0005: result {newer.pk}, confirmed later for the same "
            "series and structure, supersedes it (one confirmed result per series and structure)",
        )
        Result.objects.filter(pk=result.pk).update(state="superseded", superseded_by=newer)


class Migration(migrations.Migration):

    dependencies = [("annotations", "0004_result_owner_series_digest")]

    operations = [migrations.RunPython(owners_and_duplicates, migrations.RunPython.noop)]
