"""Issue 20: every read of patient data is recorded, but a viewer's frames do not each take the
chain's lock. Each read writes a record in the unchained, append-only read log; the chained
trail gets one ``imaging.read`` entry per user, series and window for the per-image reads
(frames, files) and one per read for everything else. Auditors read the log site-scoped
like the trail."""
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from accounts.models import User
from audit import reads
from audit.models import AppendOnlyError, AuditEntry, ReadRecord
from audit.verify import verify_chain
from imaging.models import Series
from tests.backend.imaging.conftest import media_root, upload  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD
from tests.model.imaging.dicom_builders import build_series, to_bytes

ROOT = "/api/v1/imaging/dicom-web"
SLICES = 6


@pytest.fixture
def series(upload):  # noqa: F811 (the fixture imported above)
    files = {f"s{k}.dcm": to_bytes(d) for k, d in enumerate(build_series(SLICES))}
    assert upload(files).status_code == 201
    return Series.objects.latest("id")


def frame_urls(series: Series) -> list[str]:
    base = f"{ROOT}/studies/{series.study.study_instance_uid}/series/{series.series_instance_uid}"
    return [f"{base}/instances/{sop}/frames/1"
            for sop in series.instances.values_list("sop_instance_uid", flat=True)]


def chained_reads():
    return AuditEntry.objects.filter(action="imaging.read")


def open_series(client, series: Series) -> None:
    for url in frame_urls(series):
        assert client.get(url, HTTP_ACCEPT="*/*").status_code == 200


def results(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def test_opening_a_series_writes_one_chained_entry_and_a_record_per_frame(api_as, users,
                                                                           series):
    before = chained_reads().count()
    open_series(api_as("annotator"), series)
    assert chained_reads().count() == before + 1
    entry = chained_reads().order_by("-seq").first()
    assert (entry.object_type, entry.object_id) == ("imaging.series", str(series.pk))
    assert entry.actor_id == users["annotator"].pk
    assert entry.new_values["what"] == "frames" and entry.new_values["series_opened"] is True
    assert entry.site_id == series.study.patient.site_id
    records = ReadRecord.objects.filter(what="frames", series_id=series.pk)
    assert records.count() == SLICES
    assert {r.actor_id for r in records} == {users["annotator"].pk}
    assert {r.patient_id for r in records} == {series.study.patient_id}
    assert {r.site_id for r in records} == {series.study.patient.site_id}
    assert {r.object_type for r in records} == {"imaging.instance"}
    (opening,) = records.filter(opens=True)
    assert opening.chained and entry.new_values["read_record"] == opening.pk
    assert records.filter(chained=False).count() == SLICES - 1


def test_scrolling_on_in_the_window_writes_no_more_entries(api_as, series):
    client = api_as("annotator")
    open_series(client, series)
    before = chained_reads().count()
    open_series(client, series)
    assert chained_reads().count() == before
    assert ReadRecord.objects.filter(what="frames").count() == 2 * SLICES


def test_after_the_window_a_new_entry(api_as, series, monkeypatch, settings):
    settings.AUDIT_READ_WINDOW_SECONDS = 900
    client = api_as("annotator")
    open_series(client, series)
    before = chained_reads().count()
    now = reads._now()
    monkeypatch.setattr(reads, "_now", lambda: now + timedelta(seconds=900))
    open_series(client, series)
    assert chained_reads().count() == before + 1
    assert ReadRecord.objects.filter(what="frames", opens=True).count() == 2


def test_each_user_opens_the_series_for_themselves(api_as, series):
    before = chained_reads().count()
    open_series(api_as("annotator"), series)
    open_series(api_as("reviewer"), series)
    assert chained_reads().count() == before + 2


def test_other_reads_stay_chained_every_time(api_as, series):
    client = api_as("annotator")
    url = (f"{ROOT}/studies/{series.study.study_instance_uid}/series/"
           f"{series.series_instance_uid}/metadata")
    before = chained_reads().count()
    for _ in range(2):
        assert client.get(url).status_code == 200
    assert chained_reads().count() == before + 2
    records = ReadRecord.objects.filter(what="metadata")
    assert records.count() == 2 and all(r.chained for r in records)


def test_a_frame_racing_the_opening_read_writes_no_entry(api_as, users, series, monkeypatch):
    """Two first frames at once: the second finds no opening (the first has not committed)
    and tries to open the window itself; the unique opening refuses it, so it writes its
    record alone instead of queueing on the chain's lock for a duplicate entry."""
    client = api_as("annotator")
    first, second = frame_urls(series)[:2]
    assert client.get(first, HTTP_ACCEPT="*/*").status_code == 200
    before = chained_reads().count()
    monkeypatch.setattr(reads.ReadRecord.objects, "filter",
                        lambda **kw: ReadRecord.objects.none())
    monkeypatch.setattr(reads.cache, "get", lambda key: None)  # this process has not seen it
    assert client.get(second, HTTP_ACCEPT="*/*").status_code == 200
    monkeypatch.undo()
    assert chained_reads().count() == before
    assert ReadRecord.objects.filter(what="frames").count() == 2


def test_an_opening_that_fails_leaves_no_window_open(api_as, series, monkeypatch):
    """The opening record and its chained entry commit together: when the entry cannot be
    written the read fails, and the next frame opens the window (no read goes uncovered)."""
    client = api_as("annotator")
    first, second = frame_urls(series)[:2]

    def broken(**kwargs):
        raise RuntimeError("the chain is unavailable")

    monkeypatch.setattr(reads, "record_event", broken)
    with pytest.raises(RuntimeError):
        client.get(first, HTTP_ACCEPT="*/*")
    monkeypatch.undo()
    assert not ReadRecord.objects.filter(opens=True).exists()
    before = chained_reads().count()
    assert client.get(second, HTTP_ACCEPT="*/*").status_code == 200
    assert chained_reads().count() == before + 1
    assert ReadRecord.objects.filter(opens=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_first_frames_at_once_take_the_chain_lock_once(users, series, monkeypatch):
    """PostgreSQL, two connections: while the first frame's opening holds its transaction
    (here: waiting before its chained entry), the second waits on the opening's index entry,
    not the chain, then writes its record alone. One chained entry, two records."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers on one database need PostgreSQL")
    first, second = series.instances.order_by("id")[:2]
    chained, entered, release = [], threading.Event(), threading.Event()
    real = reads.record_event

    def slow(**kwargs):
        chained.append(kwargs["object_id"])
        entered.set()
        release.wait(20)
        return real(**kwargs)

    monkeypatch.setattr(reads, "record_event", slow)

    def read(instance):
        try:
            reads.record_read(instance, "frames", actor=users["annotator"])
        finally:
            connection.close()

    opener = threading.Thread(target=read, args=(first,))
    opener.start()
    assert entered.wait(20)
    racer = threading.Thread(target=read, args=(second,))
    racer.start()
    racer.join(1.5)
    assert racer.is_alive()  # waiting for the opening to commit or roll back
    release.set()
    opener.join(20)
    racer.join(20)
    assert chained == [str(series.pk)]
    assert ReadRecord.objects.filter(what="frames").count() == 2
    assert ReadRecord.objects.filter(what="frames", opens=True).count() == 1
    assert AuditEntry.objects.filter(action="imaging.read", object_type="imaging.series",
                                     object_id=str(series.pk)).count() == 1


@pytest.fixture
def record(api_as, series):
    open_series(api_as("annotator"), series)
    return ReadRecord.objects.filter(what="frames").first()


def test_the_orm_refuses_to_change_a_read_record(record):
    record.what = "nothing"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ReadRecord.objects.filter(pk=record.pk).update(what="nothing")


@pytest.mark.parametrize("sql", ["UPDATE audit_readrecord SET actor_username = 'someone'",
                                 "DELETE FROM audit_readrecord"])
def test_the_database_refuses_to_change_read_records(record, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert ReadRecord.objects.filter(what="frames").count() == SLICES
    assert ReadRecord.objects.get(pk=record.pk).actor_username == "annotator_owner"


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_to_truncate_the_read_log(users, sites):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has only DELETE, refused above")
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_readrecord")


READ_URLS = ["/api/v1/audit/reads", "/api/v1/audit/reads.csv", "/audit/reads/",
             "/audit/reads.csv"]


def body_of(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming
            else response.content).decode()


@pytest.mark.parametrize("url", READ_URLS)
def test_another_sites_auditor_sees_none_of_the_reads(api_as, users, record, url):
    outsider = api_as("auditor_outsider")
    outsider.force_login(users["auditor_outsider"])
    response = outsider.get(url)
    assert response.status_code == 200
    assert "annotator_owner" not in body_of(response)
    home = api_as("auditor")
    home.force_login(users["auditor"])
    answer = home.get(url)
    assert answer.status_code == 200
    assert body_of(answer).count("annotator_owner") == SLICES


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("role", ["annotator", "reviewer", "site_admin", "norole"])
def test_only_auditors_read_the_read_log(api_as, users, record, url, role):
    client = api_as(role)
    client.force_login(users[role])
    assert client.get(url).status_code in (403, 404)
    assert APIClient().get(url).status_code in (302, 401, 403)


def test_the_platform_auditor_sees_every_sites_reads(api_as, users, record):
    elsewhere = reads.record_read(None, "worklist", actor=users["annotator_outsider"],
                                  object_type="imaging.search", count=0)
    assert elsewhere.site_id == users["annotator_outsider"].site_id
    platform = User.objects.create_user("platform_auditor", password=PASSWORD, site=None)
    platform.groups.set(Group.objects.filter(name="auditor"))
    client = APIClient()
    client.force_authenticate(platform)
    seen = results(client.get("/api/v1/audit/reads"))
    assert len(seen) == SLICES + 1 and elsewhere.pk in {r["id"] for r in seen}
    home = [r["id"] for r in results(api_as("auditor").get("/api/v1/audit/reads"))]
    assert len(home) == SLICES and elsewhere.pk not in home


def test_reads_filter_by_user_patient_and_series(api_as, record, series):
    client = api_as("auditor")
    patient = series.study.patient
    for query in ({"user": "annotator_owner"}, {"patient": patient.patient_id},
                  {"patient": str(patient.pk)}, {"series": series.series_instance_uid},
                  {"series": str(series.pk)}):
        found = results(client.get("/api/v1/audit/reads", {**query, "what": "frames"}))
        assert len(found) == SLICES, query
    for query in ({"user": "reviewer_owner"}, {"patient": "NOBODY"}, {"series": "1.2.3"}):
        assert results(client.get("/api/v1/audit/reads", query)) == [], query
    assert client.get("/api/v1/audit/reads", {"since": "not a time"}).status_code == 400


def test_reading_the_read_log_is_itself_audited(api_as, record):
    before = AuditEntry.objects.filter(action="audit.read", object_type="audit.readrecord")
    count = before.count()
    api_as("auditor").get("/api/v1/audit/reads")
    assert before.count() == count + 1


def test_the_chain_still_verifies(api_as, series):
    open_series(api_as("annotator"), series)
    open_series(api_as("reviewer"), series)
    assert verify_chain().intact
    call_command("audit_verify")
