"""InVesalius project files (``.inv3``): a gzipped tar with ``main.plist`` (matrix shape,
dtype and spacing) and the raw volume (z, y, x). Debian's ``invesalius-examples`` ships a
real head CT in this format, which the demo data and the tests use.

What a project records, and what it does not (InVesalius 3 project format, version 1, as in
Debian's Cranium.inv3):

- ``main.plist``: ``matrix`` (file name, dtype, shape z, y, x), ``spacing`` (x, y, z mm),
  ``modality``, ``name`` (the project's name), ``window_level``/``window_width``,
  ``scalar_range``, ``orientation`` and ``date``; ``mask_N.plist``/``surface_N.plist`` describe
  threshold masks and surfaces; ``measurements.plist``.
- ``orientation`` is InVesalius' acquisition *plane* of the original DICOM series (1 axial,
  2 coronal, 3 sagittal), not a direction in the patient: no ImageOrientationPatient, no
  ImagePositionPatient, no patient position (HFS/FFS...) is stored.
- ``date`` is when the project was saved (InVesalius writes ``datetime.now()``), not when the
  patient was scanned; no study, series or acquisition date is stored, so none is reported.

How the index axes lie in the patient, for an axial project: InVesalius builds its matrix
from the DICOM slices with each slice's rows reversed (``read_dcm_slice_as_np2(...)[::-1]`` in
its ``dcm2memmap``; VTK images are stored bottom-up) and the slices in increasing position.
On Cranium.inv3 the anatomy confirms it (tests/model/imaging/test_inv3_anatomy.py): the eyes,
nose and nasal cavity lie at high row indices (anterior) and the head rest at low ones; the
teeth lie at low slice indices and the vertex at high ones (superior). Columns are stored as
the scanner sent them, but the project keeps no record of the source's orientation, and left
and right cannot be told from a head's anatomy, so +column = patient left is an assumption.
The volume is therefore marked ``orientation_known=False``; the origin (0, 0, 0) is arbitrary.
"""
from __future__ import annotations

import plistlib
import tarfile
from pathlib import Path

import numpy as np

from model.imaging.volume import Volume

DEBIAN_HEAD_CT = Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")
AXIAL = 1
"""``main.plist`` ``orientation`` of an axial acquisition (InVesalius' constant)."""


def read_inv3(path: Path | str) -> Volume:
    """The project's volume in HU with its spacing, in the file's index order; see the module
    docstring for what its affine establishes (``orientation_known`` is always False)."""
    with tarfile.open(path, "r:gz") as archive:
        members = {Path(m.name).name: m for m in archive.getmembers()}
        main = plistlib.loads(archive.extractfile(members["main.plist"]).read())
        raw = archive.extractfile(members[main["matrix"]["filename"]]).read()
    shape = tuple(main["matrix"]["shape"])
    voxels = np.frombuffer(raw, dtype=main["matrix"]["dtype"]).reshape(shape).astype(np.float32)
    col_mm, row_mm, slice_mm = (float(v) for v in main["spacing"])
    modality = str(main.get("modality") or "") or None
    return Volume(voxels, project_affine(main.get("orientation"), col_mm, row_mm, slice_mm),
                  modality, orientation_known=False)


def project_affine(orientation: object, col_mm: float, row_mm: float, slice_mm: float
                   ) -> np.ndarray:
    """Index-to-LPS affine. Axial projects: columns to patient left (+x, assumed), rows from
    posterior to anterior (-y: InVesalius reverses the DICOM rows) and slices to the head
    (+z). Other planes get a plain diagonal: nothing about them is established."""
    if orientation == AXIAL:
        return np.diag([col_mm, -row_mm, slice_mm, 1.0])
    return np.diag([col_mm, row_mm, slice_mm, 1.0])
