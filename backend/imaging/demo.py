"""Demo images for the embedded default: real images from packages already installed (the
head CT of Debian's invesalius-examples when present, CT and MR slices of pydicom-data)."""
import io
from collections.abc import Iterator

import numpy as np

from model.imaging import Volume
from model.imaging.dicom_export import volume_to_datasets
from model.imaging.dicom_file import to_part10_bytes
from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3
from model.imaging.volume import closest_to_lps

from .actions import do_ingest
from .models import Patient

HEAD_PATIENT = "DEMO-HEAD-CT"
HEAD_SLICES = slice(40, 100)  # the brain, cranial base to vertex region
PYDICOM_DATA_FILES = ["693_UNCI.dcm", "MR2_UNCI.dcm"]


def head_ct_files() -> Iterator[tuple[str, bytes]]:
    """The head CT as DICOM: anterior at the top of an axial image and patient right on the
    screen's left, as far as the source establishes it (the anatomy fixes anterior and
    superior; left-right is an assumption, see :mod:`model.imaging.inv3`), so every image is
    marked "orientation not established" and the viewer draws no direction letters. The
    project records no scan date, so none is written."""
    head = read_inv3(DEBIAN_HEAD_CT)
    first = HEAD_SLICES.start
    affine = head.affine.copy()
    affine[:3, 3] = (head.affine @ [0, 0, first, 1])[:3]
    part = closest_to_lps(Volume(np.ascontiguousarray(head.voxels[HEAD_SLICES]), affine,
                                 head.modality, orientation_known=head.orientation_known))
    datasets = volume_to_datasets(
        part, patient_id=HEAD_PATIENT, patient_name="Demo^HeadCT", modality="CT",
        series_description="Head CT (InVesalius example)",
    )
    for index, dataset in enumerate(datasets):
        yield f"head-ct-{index:03d}.dcm", to_part10_bytes(dataset)


def pydicom_data_files() -> Iterator[tuple[str, bytes]]:
    from pydicom.data import get_testdata_file

    for name in PYDICOM_DATA_FILES:
        path = get_testdata_file(name)
        if path is not None:
            with open(path, "rb") as stream:
                yield name, stream.read()


def load_demo_images(site) -> list[str]:
    """Import what is available and not yet imported; returns one line per source."""
    lines = []
    if Patient.objects.filter(site=site, patient_id=HEAD_PATIENT).exists():
        lines.append("head CT: already loaded")
    elif DEBIAN_HEAD_CT.exists():
        files = list(head_ct_files())
        report = do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=site)
        lines.append(f"head CT: {report.summary()}")
    else:
        lines.append("head CT: not available (apt-get install invesalius-examples)")
    for name, data in pydicom_data_files():
        report = do_ingest([(name, io.BytesIO(data), len(data))], site=site,
                           allow_mixed_patients=True)
        lines.append(f"{name}: {report.summary()}")
    return lines
