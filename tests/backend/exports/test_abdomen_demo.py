"""The abdominal demo: TotalSegmentator's example CT series becomes a study of the site and its
reference masks are imported through the SEG reference import, aligned by geometry."""
import os

import numpy as np
import pytest
from django.core.management import call_command

from annotations import masks
from audit.models import AuditEntry
from exports import demo
from exports.models import ReferenceMask
from imaging.models import Series
from model.imaging.nifti import read_nifti
from model.imaging.reference_data import CT_LABELS, reference_dir

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def reference_files():
    if not demo.available():
        message = f"{reference_dir()} is missing: run scripts/bootstrap.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def loaded(reference_files, library, users):
    return demo.load_abdomen_demo(users["site_admin"].site, users["site_admin"])


def centroid_col(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[2].mean())


def test_the_series_and_every_reference_of_the_library_are_imported(loaded, library):
    series = loaded.series
    assert series.instances.count() == 20
    assert series.study.patient.patient_id == demo.PATIENT_ID
    assert str(series.study.study_date).replace("-", "") == "20221208"  # the publisher's date
    keys = set(ReferenceMask.objects.filter(series=series).values_list("structure_key",
                                                                      flat=True))
    present = {demo.ENTRY_OF_LABEL[name] for name, label in CT_LABELS.items()
               if (np.rint(read_nifti(reference_dir() / demo.MASK_FILE).voxels) == label).any()}
    assert keys == present & set(library) and "liver-ct" in keys
    assert sorted(loaded.imported) == sorted(keys)
    reference = ReferenceMask.objects.get(series=series, structure_key="liver-ct")
    assert reference.source == "package"
    assert reference.codes["type"]["code"] == "10200004"
    entries = AuditEntry.objects.filter(action="reference.import")
    assert entries.count() == len(keys)


def test_the_masks_lie_where_the_anatomy_is(loaded):
    """Aligned by the two geometries: every voxel of the label map lands once, and the liver
    lies on the patient's right (low LPS x, low column) of the spleen, the IVC right of the
    aorta."""
    def mask(key):
        ref = ReferenceMask.objects.get(series=loaded.series, structure_key=key)
        return masks.decode(ref.data, tuple(ref.shape))

    labels = np.rint(read_nifti(reference_dir() / demo.MASK_FILE).voxels)
    liver = mask("liver-ct")
    assert int(liver.sum()) == int((labels == CT_LABELS["liver"]).sum())
    assert centroid_col(liver) < centroid_col(mask("spleen-ct"))
    assert centroid_col(mask("inferior-vena-cava-ct")) < centroid_col(mask("aorta-ct"))


def test_loading_again_changes_nothing(loaded, users):
    imports = AuditEntry.objects.filter(action="reference.import").count()
    assert demo.load_abdomen_demo(users["site_admin"].site, users["site_admin"]) is None
    assert AuditEntry.objects.filter(action="reference.import").count() == imports
    series = Series.objects.filter(study__patient__patient_id=demo.PATIENT_ID)
    assert series.count() == 1 and series.get().instances.count() == 20


def test_the_command_loads_it_as_the_sites_admin(reference_files, library, users, capsys):
    call_command("load_demo_abdomen", "--site", "home")
    assert "abdominal CT: series" in capsys.readouterr().out
    call_command("load_demo_abdomen", "--site", "home")
    assert "abdominal CT: already loaded" in capsys.readouterr().out


def test_a_grid_that_does_not_match_is_refused():
    labels = np.zeros((4, 8, 8), np.int16)
    with pytest.raises(demo.DemoDataError, match="not on the series' voxel grid"):
        demo.masks_on_series(labels, np.diag([1.0, 1.0, 2.0, 1.0]),
                             np.diag([0.5, 1.0, 2.0, 1.0]), (4, 8, 8))
    flipped = np.diag([-1.0, 1.0, 1.0, 1.0])
    flipped[0, 3] = 7.0
    labels[1, 2, 3] = 5
    moved = demo.masks_on_series(labels, flipped, np.eye(4), (4, 8, 8))
    assert moved[1, 2, 7 - 3] == 5 and moved.sum() == 5


def test_the_viewer_gets_each_versions_dice_against_the_reference(loaded, make_result, api_as):
    reference = ReferenceMask.objects.get(series=loaded.series, structure_key="liver-ct")
    truth = masks.decode(reference.data, tuple(reference.shape))
    half = truth.copy()
    half[: truth.shape[0] // 2] = 0
    result = make_result(loaded.series, "liver-ct", half, edit=truth, confirm=False)
    url = f"/api/v1/exports/results/{result.pk}/comparison"
    first = api_as("annotator").get(url, {"version": 1}).json()
    assert first["mask_version"] == 1 and 0.0 < first["dice"] < 1.0
    assert first["reference_source"] == "reference data from a package (demo)"
    assert api_as("annotator").get(url, {"version": 2}).json()["dice"] == 1.0
    assert api_as("annotator").get(url).json()["mask_version"] == 2  # the latest by default
    for bad in ("9", "two"):
        answer = api_as("annotator").get(url, {"version": bad})
        assert answer.status_code == 400 and "version" in answer.json()
    assert api_as("annotator_outsider").get(url, {"version": 1}).status_code == 404
