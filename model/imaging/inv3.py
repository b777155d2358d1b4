"""InVesalius project files (``.inv3``): a gzipped tar with ``main.plist`` (matrix shape,
dtype and spacing) and the raw volume (z, y, x). Debian's ``invesalius-examples`` ships a
real head CT in this format, which the demo data and the tests use."""
from __future__ import annotations

import plistlib
import tarfile
from pathlib import Path

import numpy as np

from model.imaging.volume import Volume

DEBIAN_HEAD_CT = Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")


def read_inv3(path: Path | str) -> Volume:
    """The project's volume in HU with its spacing (axis-aligned, origin at 0)."""
    with tarfile.open(path, "r:gz") as archive:
        members = {Path(m.name).name: m for m in archive.getmembers()}
        main = plistlib.loads(archive.extractfile(members["main.plist"]).read())
        raw = archive.extractfile(members[main["matrix"]["filename"]]).read()
    shape = tuple(main["matrix"]["shape"])
    voxels = np.frombuffer(raw, dtype=main["matrix"]["dtype"]).reshape(shape).astype(np.float32)
    col_mm, row_mm, slice_mm = (float(v) for v in main["spacing"])
    return Volume(voxels, np.diag([col_mm, row_mm, slice_mm, 1.0]), "CT")
