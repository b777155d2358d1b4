"""The web upload page: many files, a zip, NIfTI with a declared modality; per-file report."""
import io

import nibabel as nib
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from imaging.models import Instance, Series
from tests.backend.imaging.conftest import series_files, zip_of

pytestmark = pytest.mark.django_db


def nifti(shape=(32, 24, 3)) -> bytes:
    data = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    return nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.5, 1.0])).to_bytes()


def test_it_imports_files_and_a_zip_and_reports_each(browser_as):
    client = browser_as("annotator")
    files = series_files(3)
    names = list(files)
    upload = [SimpleUploadedFile(names[0], files[names[0]]),
              SimpleUploadedFile("rest.zip", zip_of({n: files[n] for n in names[1:]})),
              SimpleUploadedFile("notes.txt", b"not an image")]
    response = client.post("/imaging/upload/", {"files": upload})
    assert response.status_code == 400  # one file was rejected; the others are in
    page = response.content.decode()
    assert "3 imported, 0 duplicate, 1 rejected" in page
    assert "notes.txt" in page
    assert Instance.objects.count() == 3
    assert AuditEntry.objects.filter(action="imaging.series.import").exists()


def test_a_nifti_volume_becomes_a_series_of_the_declared_modality(browser_as):
    client = browser_as("annotator")
    upload = SimpleUploadedFile("brain.nii", nifti())
    response = client.post("/imaging/upload/", {"files": [upload], "patient_id": "P-77",
                                                "modality": "MR"})
    assert response.status_code == 201, response.content.decode()
    series = Series.objects.get()
    assert series.modality == "MR"
    assert series.study.patient.patient_id == "P-77"
    assert series.instances.count() == 3


def test_it_refuses_an_unknown_modality_and_an_empty_form(browser_as):
    client = browser_as("annotator")
    bad = client.post("/imaging/upload/", {"files": [SimpleUploadedFile("a.nii", nifti())],
                                           "modality": "XYZ"})
    assert bad.status_code == 400
    assert "Unknown modality" in bad.content.decode()
    assert client.post("/imaging/upload/", {}).status_code == 400
    assert Series.objects.count() == 0


@pytest.mark.parametrize("role", ["reviewer", "auditor", "prompt_admin", "norole"])
def test_only_annotators_and_site_admins_import(browser_as, role):
    response = browser_as(role).post("/imaging/upload/", {
        "files": [SimpleUploadedFile("a.nii", nifti())]})
    assert response.status_code == 403
    assert Series.objects.count() == 0


def test_the_api_takes_the_modality_too(api_as):
    data = io.BytesIO(nifti())
    data.name = "ct.nii"
    response = api_as("annotator").post("/api/v1/imaging/uploads/",
                                        {"files": [data], "modality": "CT"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert Series.objects.get().modality == "CT"
