"""The live preview (issue 23): checked like a job, answered by a real worker over its HTTP
endpoint without the job table, equal to the job's draft on the prompted slice, and refused to
anyone but the web tier."""
import json
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, Result
from audit.models import AuditEntry
from model.preview import decode_crop
from tests.backend.annotations.test_job_worker import finished, submit
from tests.worker import wait_until

URL = "/api/v1/annotations/preview"


def ask(client, series, version, slice_index, box):
    return client.post(URL, {"series": series.pk, "prompt_version": version.pk,
                             "slice": slice_index, "box": box}, format="json")


@pytest.mark.django_db
def test_a_preview_is_checked_like_a_job(api_as, library, make_head_series, monkeypatch,
                                         settings):
    from annotations import preview

    series, box, key = make_head_series(3)
    version = library["liver-ct"]
    client = api_as("annotator")
    outside = ask(client, series, version, 3, box)
    assert outside.status_code == 400 and "0 to 2" in outside.json()["slice"][0]
    wrong_box = ask(client, series, version, key, [10, 10, 5, 5])
    assert wrong_box.status_code == 400 and "too small" in wrong_box.json()["box"][0]
    off_image = ask(client, series, version, key, [0, 0, 300, 300])
    assert off_image.status_code == 400 and "outside the image" in off_image.json()["box"][0]
    assert ask(client, series, version, key, [1, 2, 3]).status_code == 400
    assert ask(client, series, version, key, ["a", 1, 2, 3]).status_code == 400
    # Only annotators of the series' site.
    assert ask(api_as("reviewer"), series, version, key, box).status_code == 403
    assert ask(api_as("annotator_outsider"), series, version, key, box).status_code == 403
    # No worker advertises an endpoint, or the one advertised is gone: a clear 503 (the job
    # path still works).
    monkeypatch.setattr(preview, "preview_workers", lambda engine: [])
    unavailable = ask(client, series, version, key, box)
    assert unavailable.status_code == 503
    assert "No worker running litemedsam" in unavailable.json()["detail"]
    monkeypatch.setattr(preview, "preview_workers", lambda engine: ["http://127.0.0.1:9"])
    gone = ask(client, series, version, key, box)
    assert gone.status_code == 503 and "answered the preview" in gone.json()["detail"]
    # A worker that takes the request and does not answer in time: 504, the viewer asks again.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setattr(preview, "preview_workers", lambda engine: [url])
        settings.PREVIEW_TIMEOUT_SECONDS = 0.5
        slow = ask(client, series, version, key, box)
    assert slow.status_code == 504 and "still reading" in slow.json()["detail"]


pytestmark_worker = pytest.mark.django_db(transaction=True)


@pytestmark_worker
def test_a_worker_answers_the_preview_and_the_draft_replaces_it(
    api_as, library, make_head_series, celery_worker
):
    from core.models import WorkerHeartbeat

    series, box, key = make_head_series(3, patient="PREVIEW-1")
    version = library["liver-ct"]
    client = api_as("annotator")
    wait_until(lambda: WorkerHeartbeat.objects.filter(hostname=celery_worker)
               .exclude(http_url="").exists(), timeout=30, what="worker advertised no endpoint")
    jobs_before = Job.objects.count()
    entries_before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()

    first = ask(client, series, version, key, box)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["engine"] == "litemedsam" and body["slice"] == key
    preview = decode_crop(body["mask"], (256, 256))
    assert 500 < preview.sum() == body["mask"]["pixels"]
    # A box moved by a pixel, as while dragging: the embedding is the worker's already.
    moved = [box[0] + 1, box[1], box[2] + 1, box[3]]
    again = ask(client, series, version, key, moved).json()
    assert again["embedding_cached"] is True
    # Nothing was stored: no job, and no audited change (the worker's volume read is logged).
    assert Job.objects.count() == jobs_before
    assert not AuditEntry.objects.filter(pk__gt=entries_before).exclude(
        action="imaging.read").exists()

    # The draft of the same box on release: its prompted slice is the preview's mask.
    job_id = submit(client, series, version, box, key)
    job = wait_until(lambda: finished(job_id), timeout=300, interval=0.5)
    assert job.status == "succeeded", job.error
    result = Result.objects.get(pk=job.result.pk)
    download = client.get(f"/api/v1/annotations/results/{result.pk}/mask")
    shape = tuple(int(v) for v in download["X-Mask-Shape"].split(","))
    draft = masks.decode(download.content, shape)[key].astype(bool)
    dice = 2 * (draft & preview).sum() / (draft.sum() + preview.sum())
    assert dice > 0.97, dice


@pytestmark_worker
def test_the_worker_answers_only_the_web_tier(api_as, library, make_head_series,
                                               celery_worker):
    from annotations.preview import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
    from core.models import WorkerHeartbeat
    from model.protocol import window_tuple

    series, box, key = make_head_series(3, patient="PREVIEW-2")
    version = library["liver-ct"]
    url = wait_until(lambda: WorkerHeartbeat.objects.filter(hostname=celery_worker)
                     .exclude(http_url="").values_list("http_url", flat=True).first(),
                     timeout=30)
    request = {"series": series.pk, "content_version": series.content_version,
               "engine": "litemedsam", "modality": "CT",
               "window": list(window_tuple(version.content)), "slice": key, "box": box}
    body = json.dumps(request).encode()

    def post(data: bytes, stamp: int, signature: str) -> tuple[int, dict]:
        outgoing = urllib.request.Request(f"{url}/preview", data=data, method="POST", headers={
            "Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature})
        try:
            with urllib.request.urlopen(outgoing, timeout=60) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    now = int(time.time())
    assert post(body, now, "")[0] == 403
    assert post(body, now, "0" * 64)[0] == 403
    # Signed for another body, or too long ago: refused.
    other = json.dumps({**request, "series": series.pk + 1}).encode()
    assert post(other, now, sign(body, now))[0] == 403
    assert post(body, now - 600, sign(body, now - 600))[0] == 403
    status, answer = post(body, now, sign(body, now))
    assert status == 200, answer
    assert decode_crop(answer["mask"], (256, 256)).any()
    # Signed but stale: the series changed since the viewer opened it.
    stale = json.dumps({**request, "content_version": series.content_version + 1}).encode()
    assert post(stale, now, sign(stale, now))[0] == 409
    malformed = json.dumps({**request, "box": "wide"}).encode()
    assert post(malformed, now, sign(malformed, now))[0] == 400
    assert post(b"{", now, sign(b"{", now))[0] == 400


def test_the_crop_encoding_round_trips():
    from model.preview import encode_crop

    rng = np.random.default_rng(3)
    for mask in (np.zeros((7, 9), bool), rng.random((40, 33)) > 0.6):
        encoded = encode_crop(mask)
        assert np.array_equal(decode_crop(encoded, mask.shape), mask)
        assert encoded["pixels"] == mask.sum()
