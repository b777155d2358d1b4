"""Prefetching slice embeddings before the user prompts (issue 23): the request is checked like a
job's inputs, bounded, not sent twice while fresh, and a real worker embeds the slices so the
job that follows on them spends (almost) nothing on the encoder."""
import time

import pytest

from tests.backend.annotations.conftest import ct_files, ingest_files
from tests.backend.annotations.test_job_worker import finished, submit
from tests.worker import wait_until

URL = "/api/v1/annotations/prefetch"


def ask(client, series, version, slices):
    return client.post(URL, {"series": series.pk, "prompt_version": version.pk,
                             "slices": slices}, format="json")


@pytest.mark.django_db
def test_a_prefetch_is_checked_and_bounded(api_as, library, make_head_series, settings):
    series, _, _ = make_head_series(3)
    version = library["liver-ct"]
    client = api_as("annotator")
    too_many = ask(client, series, version, [0, 1, 2, 3, 4, 5])
    assert too_many.status_code == 400 and "slices" in too_many.json()
    outside = ask(client, series, version, [1, 3])
    assert outside.status_code == 400
    assert "0 to 2" in outside.json()["slices"][0]
    assert ask(client, series, version, []).status_code == 400
    assert ask(client, series, version, ["x"]).status_code == 400
    # Only annotators of the series' site prefetch.
    assert ask(api_as("reviewer"), series, version, [1]).status_code == 403
    assert ask(api_as("annotator_outsider"), series, version, [1]).status_code == 403

    first = ask(client, series, version, [2, 1, 1])
    assert first.status_code == 202, first.content
    assert first.json() == {"slices": [1, 2], "engine": "litemedsam", "sent": True}
    # The same request while it is fresh is not sent again.
    assert ask(client, series, version, [1, 2]).json()["sent"] is False


@pytest.mark.django_db(transaction=True)
def test_a_prefetched_slice_costs_the_job_no_encoder_pass(
    api_as, library, head_ct, sites, users, celery_worker
):
    from imaging.models import Series
    from tests.model.head_ct import box_of, brain_mask

    client = api_as("annotator")
    version = library["liver-ct"]

    def series_of(first: int, patient: str):
        # Slices below the ones other tests ingest (from 60), so the worker has not embedded
        # them.
        ingest_files(ct_files(head_ct.hu[first:first + 3], head_ct.spacing_zyx, patient),
                     sites["home"], users["annotator"])
        box = [float(v) for v in box_of(brain_mask(head_ct.hu[first + 1]))]
        return Series.objects.get(study__patient__patient_id=patient), box

    # Without a prefetch: the job embeds its slices itself.
    cold, box = series_of(38, "COLD-1")
    cold_id = submit(client, cold, version, box, 1)
    cold_job = wait_until(lambda: finished(cold_id), timeout=300)
    assert cold_job.status == "succeeded", cold_job.error
    cold_embed = cold_job.result.provenance["timings"]["embed"]

    # Other slices, prefetched before the prompt.
    warm, box = series_of(44, "WARM-1")
    assert ask(client, warm, version, [0, 1, 2]).json()["sent"] is True
    # The worker takes its queue's messages in the order sent (the file-system broker orders
    # them by time): sent a second apart, the prefetch runs before the job, as when a user
    # scrolls to a slice and then draws the box.
    time.sleep(1.0)
    warm_id = submit(client, warm, version, box, 1)
    warm_job = wait_until(lambda: finished(warm_id), timeout=300)
    assert warm_job.status == "succeeded", warm_job.error
    warm_embed = warm_job.result.provenance["timings"]["embed"]
    assert cold_embed > 0.2, cold_embed
    assert warm_embed < cold_embed / 5, (warm_embed, cold_embed)
