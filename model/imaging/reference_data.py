"""Real labelled CT and MR from a registry package: TotalSegmentator's ``tests/reference_files``.

The PyPI sdist ``totalsegmentator==2.18.0`` (Apache-2.0) ships an abdominal CT (NIfTI and a
20-slice DICOM series), an abdominal MR and a second patient's cropped CT, each with the masks
TotalSegmentator computed for it. Those masks are the tool's output, not manual ground truth:
we call them *reference masks*. Setup (``scripts/bootstrap.sh``) downloads the sdist with pip
and unpacks only that folder into ``var/reference_data/``; nothing here downloads at run time,
and the package is never installed (it would pull other torch builds and nnU-Net).

Layout after :func:`fetch`::

    var/reference_data/totalsegmentator-2.18.0/
        example_ct_sm.nii.gz, example_seg.nii.gz          122x101x30 CT, 3 mm, and its labels
        example_ct_dicom/*.dcm, example_seg_dicom.nii.gz  20 slices 512x512 and its labels
        example_mr_sm.nii.gz, example_seg_mr.nii.gz       abdominal MR and its labels
        aorta_report/...                                  a second patient (aorta masks)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "totalsegmentator"
VERSION = "2.18.0"
_MEMBER_PREFIX = "tests/reference_files/"

# TotalSegmentator v2 CT class ids of the 12 abdominal structures the bench and demo use.
CT_LABELS = {
    "spleen": 1, "kidney_right": 2, "kidney_left": 3, "gallbladder": 4, "liver": 5,
    "stomach": 6, "pancreas": 7, "adrenal_gland_right": 8, "adrenal_gland_left": 9,
    "aorta": 52, "inferior_vena_cava": 63, "portal_vein_and_splenic_vein": 64,
}

# The prompt-library entry (prompt_library/structures/<key>.yaml) of each of those structures.
ENTRY_OF_LABEL = {
    "spleen": "spleen-ct", "kidney_right": "kidney-right-ct", "kidney_left": "kidney-left-ct",
    "gallbladder": "gallbladder-ct", "liver": "liver-ct", "stomach": "stomach-ct",
    "pancreas": "pancreas-ct", "adrenal_gland_right": "adrenal-gland-right-ct",
    "adrenal_gland_left": "adrenal-gland-left-ct", "aorta": "aorta-ct",
    "inferior_vena_cava": "inferior-vena-cava-ct",
    "portal_vein_and_splenic_vein": "portal-splenic-veins-ct",
}


def default_root() -> Path:
    """Where setup puts the files: ``$MEDSAM_REFERENCE_DATA`` or ``<repo>/var/reference_data``."""
    configured = os.environ.get("MEDSAM_REFERENCE_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "var" / "reference_data"


def reference_dir(root: Path | None = None) -> Path:
    return (root or default_root()) / f"{PACKAGE}-{VERSION}"


def available(root: Path | None = None) -> bool:
    return (reference_dir(root) / "example_seg.nii.gz").is_file()


def fetch(root: Path | None = None, python: str = sys.executable) -> Path:
    """Download the sdist with pip (registry only) and unpack its reference files, once.

    The folder appears atomically: files are extracted to a temporary sibling and renamed, so a
    run interrupted half-way leaves nothing that :func:`available` would take for complete.
    """
    target = reference_dir(root)
    if available(root):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{PACKAGE}=={VERSION}", "-d", scratch],
            check=True,
        )
        (sdist,) = Path(scratch).glob(f"{PACKAGE}-{VERSION}.tar.gz")
        staging = Path(scratch) / "unpacked"
        with tarfile.open(sdist, "r:gz") as archive:
            for member in archive.getmembers():
                name = member.name.split("/", 1)[-1]
                if not name.startswith(_MEMBER_PREFIX) or not (member.isfile() or member.isdir()):
                    continue
                relative = name[len(_MEMBER_PREFIX):]
                if not relative or ".." in Path(relative).parts:
                    continue
                member.name = relative
                archive.extract(member, staging, filter="data")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


if __name__ == "__main__":
    print(fetch())
