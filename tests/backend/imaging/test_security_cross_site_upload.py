"""Issue 20, the cross-site upload oracle: a site's images are its own. A site that uploads a
study another site already holds stores its own copy, and nothing it is told -- duplicate,
conflict, mismatch -- depends on or reveals what the other site holds."""

import io
import json

import pydicom
import pytest
from pydicom.uid import generate_uid

from imaging.models import Instance, Series, Study
from tests.backend.imaging.conftest import series_files
from tests.backend.imaging.orthanc import orthanc  # noqa: F401 (fixture)
from tests.model.imaging.dicom_builders import to_bytes

ROOT = "/api/v1/imaging/dicom-web"
HOME, OTHER = "annotator", "annotator_outsider"

pytestmark = pytest.mark.django_db


def changed(data: bytes) -> bytes:
    """The same file (same UIDs) with one pixel byte changed."""
    altered = bytearray(data)
    altered[-10] ^= 0xFF
    return bytes(altered)


def stored_bytes(instance: Instance) -> bytes:
    with instance.file.open("rb") as stream:
        return stream.read()


def statuses(response) -> set[str]:
    return {f["status"] for f in response.json()["files"]}


def site_series(sites, key: str) -> Series:
    return Series.objects.get(site=sites[key])


@pytest.fixture
def files():
    return series_files(3)


@pytest.fixture
def home_holds(upload, files):
    response = upload(files, HOME)
    assert response.status_code == 201 and response.json()["imported"] == 3
    return files


def test_another_site_uploading_the_same_files_stores_them_as_its_own(upload, home_holds,
                                                                     sites):
    home = site_series(sites, "home")
    home_files = {i.pk: (i.file.name, stored_bytes(i)) for i in home.instances.all()}

    response = upload(home_holds, OTHER)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["imported"] == 3 and body["duplicates"] == 0 and body["rejected"] == 0
    assert statuses(response) == {"imported"}
    other = site_series(sites, "other")
    assert other.pk != home.pk and other.study.pk != home.study.pk
    assert other.study.patient.site == sites["other"]
    assert other.series_instance_uid == home.series_instance_uid
    assert other.study.study_instance_uid == home.study.study_instance_uid
    assert {i.site_id for i in other.instances.all()} == {sites["other"].pk}
    assert other.instances.count() == 3
    # The home site's rows and files are untouched; the two copies share no file.
    home.refresh_from_db()
    assert {i.pk: (i.file.name, stored_bytes(i)) for i in home.instances.all()} == home_files
    assert not {i.file.name for i in other.instances.all()} & {n for n, _ in home_files.values()}
    assert sorted(stored_bytes(i) for i in other.instances.all()) == sorted(home_holds.values())


def test_no_answer_tells_of_another_sites_images(upload, files):
    first_answer = upload(files, HOME).json()
    answer = upload(files, OTHER).json()
    # The other site is told exactly what the first site was told when it held nothing.
    assert answer["files"] == first_answer["files"]
    assert [s["instances"] for s in answer["series"]] == [3]
    text = json.dumps(answer).lower()
    assert "site" not in text and "another" not in text and "already" not in text


def test_other_content_under_the_home_sites_uids_is_the_other_sites_own_image(upload,
                                                                             home_holds,
                                                                             sites):
    altered = {name: changed(data) for name, data in home_holds.items()}
    response = upload(altered, OTHER)
    assert response.status_code == 201, response.json()
    assert statuses(response) == {"imported"}
    other = site_series(sites, "other")
    assert sorted(stored_bytes(i) for i in other.instances.all()) == sorted(altered.values())
    home = site_series(sites, "home")
    assert sorted(stored_bytes(i) for i in home.instances.all()) == sorted(home_holds.values())


def test_within_one_site_a_repeat_is_a_duplicate_and_a_change_a_conflict(upload, home_holds,
                                                                        sites):
    assert upload(home_holds, OTHER).json()["imported"] == 3
    for who in (HOME, OTHER):
        again = upload(home_holds, who)
        assert again.status_code == 201
        assert again.json()["duplicates"] == 3 and again.json()["imported"] == 0
    name = next(iter(home_holds))
    conflict = upload({name: changed(home_holds[name])}, OTHER)
    assert conflict.status_code == 400
    assert conflict.json()["files"][0]["code"] == "uid_conflict"
    assert Instance.objects.filter(site=sites["home"]).count() == 3
    assert Instance.objects.filter(site=sites["other"]).count() == 3
    assert Study.objects.count() == 2


def test_a_patient_mismatch_is_still_refused_within_a_site_only(upload, files, sites):
    upload(files, HOME)
    relabelled = {}
    for name, data in files.items():
        dataset = pydicom.dcmread(io.BytesIO(data))
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dataset.PatientID = "SOMEONE-ELSE"
        relabelled[f"new-{name}"] = to_bytes(dataset)
    at_home = upload(relabelled, HOME)
    assert at_home.status_code == 400
    assert {f["code"] for f in at_home.json()["files"]} == {"patient_mismatch"}
    # At the other site the same files are simply that site's images of that patient.
    elsewhere = upload(relabelled, OTHER)
    assert elsewhere.status_code == 201 and statuses(elsewhere) == {"imported"}
    assert site_series(sites, "other").study.patient.patient_id == "SOMEONE-ELSE"


def _wado(client, instance: Instance):
    series = instance.series
    return client.get("/api/v1/imaging/wado", {
        "requestType": "WADO",
        "studyUID": series.study.study_instance_uid,
        "seriesUID": series.series_instance_uid,
        "objectUID": instance.sop_instance_uid,
    })


def test_dicomweb_serves_each_site_its_own_copy(upload, home_holds, api_as, sites):
    altered = {name: changed(data) for name, data in home_holds.items()}
    assert upload(altered, OTHER).json()["imported"] == 3
    home_series, other_series = site_series(sites, "home"), site_series(sites, "other")
    for who, series, originals in (("reviewer", home_series, home_holds),
                                   ("reviewer_outsider", other_series, altered)):
        client = api_as(who)
        studies = client.get(f"{ROOT}/studies").json()
        assert len(studies) == 1 and studies[0]["00201208"]["Value"] == [3]
        for instance in series.instances.all():
            response = _wado(client, instance)
            assert response.status_code == 200
            assert response.content == stored_bytes(instance)
            assert response.content in originals.values()
        study_uid = series.study.study_instance_uid
        listed = client.get(f"{ROOT}/studies/{study_uid}/series/"
                            f"{series.series_instance_uid}/metadata").json()
        assert len(listed) == 3
    # Same URL, each site's own bytes: neither reaches the other's copy.
    sample = home_series.instances.first()
    twin = other_series.instances.get(sop_instance_uid=sample.sop_instance_uid)
    assert _wado(api_as("reviewer"), sample).content == stored_bytes(sample)
    assert _wado(api_as("reviewer_outsider"), sample).content == stored_bytes(twin)
    assert stored_bytes(sample) != stored_bytes(twin)


def test_a_site_holding_nothing_still_finds_nothing(upload, home_holds, api_as, sites):
    home = site_series(sites, "home")
    instance = home.instances.first()
    assert _wado(api_as("reviewer_outsider"), instance).status_code == 404
    assert api_as("reviewer_outsider").get(f"{ROOT}/studies").json() == []


def test_two_sites_importing_one_study_from_the_pacs_each_hold_a_copy(orthanc, settings,  # noqa: F811
                                                                      api_as, sites):
    from dicomweb_client.api import DICOMwebClient

    from tests.model.imaging.dicom_builders import build_series

    settings.IMAGING_PACS_URL = orthanc
    series = build_series(4)
    for dataset in series:
        dataset.PatientID = "PACS-CROSS-SITE"
    DICOMwebClient(url=orthanc).store_instances(series)
    study = {"study_uid": series[0].StudyInstanceUID}
    for who in ("annotator", "annotator_outsider"):
        response = api_as(who).post("/api/v1/imaging/pacs/import/", study, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["imported"] == 4 and response.json()["duplicates"] == 0
    for who in ("annotator", "annotator_outsider"):
        again = api_as(who).post("/api/v1/imaging/pacs/import/", study, format="json")
        assert again.json()["duplicates"] == 4 and again.json()["imported"] == 0
    for key in ("home", "other"):
        stored = site_series(sites, key)
        assert stored.source_format == "pacs" and stored.instances.count() == 4
