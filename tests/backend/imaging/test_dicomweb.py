"""Cornerstone3D's DICOMweb path: QIDO-RS search, WADO-RS metadata and frames, WADO-URI."""

import email

import numpy as np
import pydicom
import pytest

from audit.models import AuditEntry
from imaging.models import Series
from imaging.volumes import load_series_volume
from model.imaging import assemble_volume
from tests.backend.imaging.conftest import series_files
from tests.model.imaging.dicom_builders import build_series, to_bytes

ROOT = "/api/v1/imaging/dicom-web"


def value(item: dict, tag: str):
    return item[tag]["Value"][0]


def frames_of(response) -> list[bytes]:
    message = email.message_from_bytes(
        b"Content-Type: " + response["Content-Type"].encode() + b"\r\n\r\n" + response.content
    )
    return [part.get_payload(decode=True) for part in message.get_payload()]


@pytest.fixture
def stored_series(upload):
    series = build_series(8)
    order = [3, 0, 7, 1, 6, 2, 5, 4]
    assert upload({f"s{k}.dcm": to_bytes(series[k]) for k in order}).status_code == 201
    return series


def test_a_viewer_can_scroll_through_a_stored_series(api_as, stored_series):
    client = api_as("reviewer")
    studies = client.get(f"{ROOT}/studies").json()
    study_uid = value(studies[0], "0020000D")
    assert value(studies[0], "00201208") == 8
    series = client.get(f"{ROOT}/studies/{study_uid}/series").json()
    series_uid = value(series[0], "0020000E")
    metadata = client.get(f"{ROOT}/studies/{study_uid}/series/{series_uid}/metadata").json()
    assert len(metadata) == 8 and "7FE00010" not in metadata[0]
    normal = np.cross(*np.reshape(metadata[0]["00200037"]["Value"], (2, 3)))
    ordered = sorted(metadata, key=lambda m: float(np.dot(m["00200032"]["Value"], normal)))
    base = stored_series[0].pixel_array
    for k, item in enumerate(ordered):
        sop = value(item, "00080018")
        # What Cornerstone's image loader and other DICOMweb clients ask for.
        response = client.get(
            f"{ROOT}/studies/{study_uid}/series/{series_uid}/instances/{sop}/frames/1",
            HTTP_ACCEPT='multipart/related; type="application/octet-stream"; '
            "transfer-syntax=*",
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("multipart/related")
        (frame,) = frames_of(response)
        pixels = np.frombuffer(frame, dtype="<i2").reshape(128, 128)
        np.testing.assert_array_equal(pixels, base + 10 * k)


def test_search_is_limited_to_the_users_site_and_reads_are_audited(api_as, stored_series):
    assert api_as("reviewer_outsider").get(f"{ROOT}/studies").json() == []
    before = AuditEntry.objects.filter(action="imaging.read").count()
    api_as("reviewer").get(f"{ROOT}/studies")
    assert AuditEntry.objects.filter(action="imaging.read").count() == before + 1
    assert api_as("auditor").get(f"{ROOT}/studies").status_code == 403


def test_wado_uri_returns_the_stored_file(api_as, stored_series):
    dataset = stored_series[0]
    response = api_as("annotator").get(
        "/api/v1/imaging/wado",
        {
            "requestType": "WADO",
            "studyUID": dataset.StudyInstanceUID,
            "seriesUID": dataset.SeriesInstanceUID,
            "objectUID": dataset.SOPInstanceUID,
        },
    )
    assert response.status_code == 200
    assert pydicom.dcmread(__import__("io").BytesIO(response.content)).SOPInstanceUID == (
        dataset.SOPInstanceUID
    )


def test_the_volume_cache_matches_assembly_and_is_rebuilt_when_instances_change(upload, media_root):
    series_data = build_series(6)
    upload({f"s{k}.dcm": to_bytes(d) for k, d in enumerate(series_data[:5])})
    series = Series.objects.get()
    first = load_series_volume(series)
    np.testing.assert_array_equal(first.voxels, assemble_volume(series_data[:5]).voxels)
    cached = list((media_root / "volume-cache").glob("*.npy"))
    assert len(cached) == 1
    assert load_series_volume(series).voxels.shape == (5, 128, 128)
    upload({"s5.dcm": to_bytes(series_data[5])})
    series.refresh_from_db()
    assert load_series_volume(series).voxels.shape == (6, 128, 128)
    assert [p.name for p in (media_root / "volume-cache").glob("*.npy")] != [cached[0].name]


def test_the_volume_cache_is_keyed_by_content_not_by_pk_and_version(upload, media_root):
    """The cause of a flaky worker test: a flushed (or SQLite) database hands a new series the
    pk and content_version of an old one whose cache file is still on disk. Files with other
    hashes under the same pk and version must not find the old cache."""
    upload({f"s{k}.dcm": to_bytes(d) for k, d in enumerate(build_series(3))})
    series = Series.objects.get()
    load_series_volume(series)
    old = {p.name for p in (media_root / "volume-cache").glob("*.npy")}
    assert len(old) == 1
    version = series.content_version
    series.instances.update(sha256="0" * 64)  # as another series' files would hash
    series.refresh_from_db()
    assert series.content_version == version
    load_series_volume(series)
    assert len({p.name for p in (media_root / "volume-cache").glob("*.npy")} - old) == 1


def test_the_import_command_reports_each_file_and_fails_on_rejections(tmp_path, users):
    from django.core.management import call_command

    folder = tmp_path / "export"
    folder.mkdir()
    for name, data in series_files(3).items():
        (folder / name).write_bytes(data)
    (folder / "junk.txt").write_text("x" * 200)
    from io import StringIO

    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_images", str(folder), "--site", "home", stdout=out)
    assert exited.value.code == 1
    lines = out.getvalue().splitlines()
    assert sum(line.startswith("imported: ") for line in lines) == 3
    assert any(line.startswith("rejected: ") and "junk.txt" in line for line in lines)
    assert lines[-1] == "3 imported, 0 duplicate, 1 rejected"
    out = StringIO()
    (folder / "junk.txt").unlink()
    call_command("import_images", str(folder), "--site", "home", stdout=out)
    assert out.getvalue().splitlines()[-1] == "0 imported, 3 duplicate, 0 rejected"
