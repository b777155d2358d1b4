"""NIfTI export for research users: the mask overlays the source images (affine check against
the DICOM headers themselves, not against our own volume code)."""
import gzip

import nibabel as nib
import numpy as np
import pydicom
import pytest

from audit.models import AuditEntry
from imaging.models import Instance
from review.models import QAItem
from tests.backend.exports.conftest import box_mask

pytestmark = pytest.mark.django_db

MASK = box_mask(slice(80, 120), slice(140, 200), slice(1, 3))


def nifti_of(response) -> nib.Nifti1Image:
    return nib.Nifti1Image.from_bytes(gzip.decompress(response.content))


def test_the_nifti_overlays_the_source_images(head_series, make_result, api_as):
    result = make_result(head_series, "liver-ct", MASK)
    response = api_as("annotator").post(f"/api/v1/exports/results/{result.pk}/nifti")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.nii.gz"')
    image = nifti_of(response)
    data = np.asarray(image.dataobj)
    assert data.dtype == np.uint8 and data.shape == (256, 256, 4)
    ras_to_lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    headers = [pydicom.dcmread(i.file.path, stop_before_pixels=True)
               for i in Instance.objects.filter(series=head_series)]
    by_position = {}
    for header in headers:
        by_position[tuple(np.round(np.array(header.ImagePositionPatient, float), 2))] = header
    for k in range(data.shape[2]):
        # Voxel (0, 0, k) of the file sits at the top-left pixel of one of the source images...
        corner = (ras_to_lps @ image.affine @ [0, 0, k, 1])[:3]
        header = by_position[tuple(np.round(corner, 2))]
        # ...and one step along i and j is one pixel along that image's rows and columns.
        row_step = (ras_to_lps @ image.affine @ [1, 0, k, 1])[:3] - corner
        col_step = (ras_to_lps @ image.affine @ [0, 1, k, 1])[:3] - corner
        orientation = np.array(header.ImageOrientationPatient, float)
        spacing = np.array(header.PixelSpacing, float)
        np.testing.assert_allclose(row_step, orientation[:3] * spacing[1], atol=1e-4)
        np.testing.assert_allclose(col_step, orientation[3:] * spacing[0], atol=1e-4)
    np.testing.assert_array_equal(data.transpose(2, 1, 0), MASK)
    assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1


def test_the_nifti_export_is_audited_and_a_draft_is_refused(head_series, make_result, api_as):
    draft = make_result(head_series, "liver-ct", MASK, confirm=False)
    refused = api_as("annotator").post(f"/api/v1/exports/results/{draft.pk}/nifti")
    assert refused.status_code == 403
    assert "Only confirmed results can be exported" in refused.json()["detail"]
    confirmed = make_result(head_series, "kidney-left-ct", MASK)
    # Its QA reading is over: an open one would hide it from the reviewer (blinding).
    QAItem.objects.filter(result=confirmed).update(state="agreed")
    api_as("reviewer").post(f"/api/v1/exports/results/{confirmed.pk}/nifti")
    entry = AuditEntry.objects.get(action="result.export")
    assert entry.new_values["format"] == "nifti"
    assert entry.actor_username == "reviewer_owner"
    assert entry.object_id == str(confirmed.pk)
