"""Issue 19: the demo head CT shows its face at the top, carries no invented date, and is
flagged "orientation not established" (left-right is not recorded by its source); ordinary
DICOM with ImageOrientationPatient is not flagged. The viewer reads the flag from the layout."""
import datetime
import io

import numpy as np
import pydicom
import pytest

from imaging.actions import do_ingest
from imaging.models import Series
from model.imaging import assemble_volume
from tests.backend.imaging.conftest import series_files
from tests.model.head_ct import require_cranium
from tests.model.imaging.head_anatomy import head_landmarks

pytestmark = pytest.mark.django_db


def _ingest(files, site, actor):
    return do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=site, actor=actor)


def _layout(api_as, series):
    return api_as("annotator").get(f"/api/v1/annotations/series/{series.pk}/layout").json()


def test_the_demo_head_ct_is_flagged_undated_and_shows_the_face_at_the_top(
        api_as, users, sites):
    from imaging.demo import HEAD_PATIENT, head_ct_files

    require_cranium()
    report = _ingest(list(head_ct_files()), sites["home"], users["annotator"])
    assert report.summary().startswith("60 imported")
    series = Series.objects.get(study__patient__patient_id=HEAD_PATIENT)
    assert series.orientation_established is False
    assert series.problem == ""
    today = datetime.date.today().strftime("%Y%m%d")
    assert series.study.study_date == "" != today
    body = _layout(api_as, series)
    assert body["orientation_established"] is False
    assert body["study_date"] == ""

    # The stored images, in the layout's order, as the viewer's stack shows them.
    by_sop = {}
    for instance in series.instances.all():
        with instance.file.open("rb") as stream:
            by_sop[instance.sop_instance_uid] = pydicom.dcmread(stream)
    datasets = [by_sop[f["sop_uid"]] for f in body["frames"]]
    first = datasets[0]
    assert first.StudyDate == "" and first.SeriesDate == ""
    assert "not established" in first.ImageComments
    # The column cosine runs to posterior: the image's top edge is anterior ("A").
    iop = [float(v) for v in first.ImageOrientationPatient]
    assert iop == [1, 0, 0, 0, 1, 0]
    volume = assemble_volume(datasets)
    marks = head_landmarks(volume)
    eye_row = np.linalg.solve(volume.affine, [*marks.eyes[0], 1.0])[1]
    assert eye_row < volume.shape[1] / 3  # the eyes in the upper third of the screen
    assert marks.eyes[0][1] < marks.head[1] - 50  # anterior in patient coordinates
    z = [float(d.ImagePositionPatient[2]) for d in datasets]
    assert z == sorted(z)  # the stack runs from feet to head


def test_ordinary_dicom_is_established_and_keeps_its_date(api_as, users, sites):
    files = series_files(3)
    _ingest(files.items(), sites["home"], users["annotator"])
    series = Series.objects.get()
    assert series.orientation_established is True
    body = _layout(api_as, series)
    assert body["orientation_established"] is True
    assert body["study_date"] == str(pydicom.dcmread(io.BytesIO(files["IM0000.dcm"])).StudyDate)


def test_dicom_without_orientation_is_flagged(api_as, users, sites):
    from tests.model.imaging.dicom_builders import build_series, to_bytes

    dataset = build_series(1)[0]
    del dataset.ImageOrientationPatient
    _ingest([("one.dcm", to_bytes(dataset))], sites["home"], users["annotator"])
    series = Series.objects.get()
    assert series.orientation_established is False
    assert _layout(api_as, series)["orientation_established"] is False


def test_a_series_stored_before_the_check_is_checked_when_shown(api_as, users, sites):
    _ingest(series_files(2).items(), sites["home"], users["annotator"])
    series = Series.objects.get()
    Series.objects.filter(pk=series.pk).update(orientation_established=None)
    assert _layout(api_as, series)["orientation_established"] is True
