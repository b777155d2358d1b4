"""Search and import studies from a real Orthanc over DICOMweb."""

import numpy as np
from dicomweb_client.api import DICOMwebClient

from imaging.models import Series
from imaging.volumes import load_series_volume
from model.imaging import assemble_volume
from tests.backend.imaging.orthanc import orthanc  # noqa: F401 (fixture)
from tests.model.imaging.dicom_builders import build_series


def test_a_study_found_on_the_pacs_imports_as_a_volume(orthanc, settings, api_as):  # noqa: F811
    settings.IMAGING_PACS_URL = orthanc
    series = build_series(6)
    for dataset in series:
        dataset.PatientID = "PACS-TEST-1"
    DICOMwebClient(url=orthanc).store_instances(series)
    client = api_as("annotator")
    found = client.get("/api/v1/imaging/pacs/studies/", {"PatientID": "PACS-TEST-1"}).json()
    assert [s["study_uid"] for s in found["studies"]] == [series[0].StudyInstanceUID]
    response = client.post(
        "/api/v1/imaging/pacs/import/", {"study_uid": series[0].StudyInstanceUID}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["imported"] == 6
    stored = Series.objects.get()
    assert stored.source_format == "pacs" and stored.problem == ""
    np.testing.assert_array_equal(load_series_volume(stored).voxels, assemble_volume(series).voxels)
    again = client.post(
        "/api/v1/imaging/pacs/import/", {"study_uid": series[0].StudyInstanceUID}, format="json"
    )
    assert again.json()["duplicates"] == 6


def test_an_unreachable_pacs_is_a_502(settings, api_as):
    settings.IMAGING_PACS_URL = "http://127.0.0.1:9/dicom-web"
    response = api_as("annotator").get("/api/v1/imaging/pacs/studies/")
    assert response.status_code == 502


def test_without_a_pacs_the_search_says_so_in_user_words(api_as, settings):
    settings.IMAGING_PACS_URL = ""
    answer = api_as("annotator").get("/api/v1/imaging/pacs/studies/", {"PatientID": "X"})
    assert answer.status_code == 502
    detail = answer.json()["detail"]
    assert "No PACS is connected at this site" in detail and "IMAGING_PACS_URL" not in detail
