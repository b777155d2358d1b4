"""The abdominal demo: TotalSegmentator's example CT series as a study of the demo site, with
TotalSegmentator's own masks of it as reference masks, so an annotator sees AI-against-reference
Dice on the structures the shipped library covers.

The files come from the ``totalsegmentator==2.18.0`` sdist that setup unpacks into
``var/reference_data`` (:mod:`model.imaging.reference_data`); nothing is downloaded here.

- The DICOM series (20 slices, 512x512, JPEG 2000 lossless) was de-identified by its publisher
  down to empty PatientID, StudyInstanceUID, SeriesInstanceUID, SOPClassUID and
  SOPInstanceUID. The SOP class and instance UIDs are restored from each file's own meta
  header; the study and series UIDs are derived from the files' content (the same on every
  machine, so a second load finds the study); the patient gets the demo id below. Pixel data,
  geometry and dates are the publisher's, untouched.
- The masks (``example_seg_dicom.nii.gz``) are aligned to the series by the two geometries
  (NIfTI affine and the series' ImageOrientation/Position), never by guessing flips: the
  mapping from series voxels to mask voxels must be a signed permutation with whole-voxel
  offsets, or the load stops.
- They are imported through the ordinary reference import (a DICOM SEG built from them,
  ``exports.actions.do_import_reference``), so they are audited, matched to prompt entries by
  their codes, and compared with results exactly as an uploaded expert SEG would be.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from django.db import transaction
from pydicom.uid import generate_uid

from imaging import access
from imaging.actions import do_ingest
from imaging.models import Series
from model.imaging import plan_series
from model.imaging.nifti import read_nifti
from model.imaging.reference_data import CT_LABELS, ENTRY_OF_LABEL, reference_dir
from prompts.models import PromptVersion, VersionState

from .actions import do_import_reference
from .codes import UnexportableCode, structure_codes
from .models import ReferenceMask, ReferenceSource
from .seg import Algorithm, AlgorithmType, Segment, SegOptions, build_seg

PATIENT_ID = "DEMO-ABDOMEN-CT"
PATIENT_NAME = "Demo^AbdomenCT"
SERIES_FOLDER = "example_ct_dicom"
MASK_FILE = "example_seg_dicom.nii.gz"
SOURCE = "TotalSegmentator 2.18.0"
UID_SEED = "totalsegmentator-2.18.0/tests/reference_files/example_ct_dicom"

"""TotalSegmentator v2 class names (:data:`CT_LABELS`) to the shipped library's entry keys."""


class DemoDataError(RuntimeError):
    """The reference files are missing or do not fit together; the message says why."""


@dataclass(frozen=True)
class DemoReport:
    series: Series
    imported: list[str]  # entry keys whose reference was imported now
    skipped: list[str]  # labels without an approved entry at this site, or empty

    def summary(self) -> str:
        text = f"series {self.series.pk}, references of {', '.join(self.imported) or 'nothing'}"
        return text + (f"; not imported: {', '.join(self.skipped)}" if self.skipped else "")


def available(root: Path | None = None) -> bool:
    folder = reference_dir(root)
    return (folder / SERIES_FOLDER).is_dir() and (folder / MASK_FILE).is_file()


def series_files(root: Path | None = None) -> list[tuple[str, bytes]]:
    """The series' files with the identifiers their publisher emptied filled in."""
    folder = reference_dir(root) / SERIES_FOLDER
    paths = sorted(p for p in folder.iterdir() if p.is_file())
    if not paths:
        raise DemoDataError(f"{folder} holds no files; run scripts/bootstrap.sh again.")
    study_uid = generate_uid(entropy_srcs=[UID_SEED, "study"])
    series_uid = generate_uid(entropy_srcs=[UID_SEED, "series"])
    files = []
    for path in paths:
        dataset = pydicom.dcmread(path)
        meta = dataset.file_meta
        dataset.SOPClassUID = dataset.SOPClassUID or meta.MediaStorageSOPClassUID
        dataset.SOPInstanceUID = dataset.SOPInstanceUID or meta.MediaStorageSOPInstanceUID
        dataset.StudyInstanceUID = dataset.StudyInstanceUID or study_uid
        dataset.SeriesInstanceUID = dataset.SeriesInstanceUID or series_uid
        dataset.PatientID = dataset.PatientID or PATIENT_ID
        dataset.PatientName = dataset.PatientName or PATIENT_NAME
        dataset.StudyDescription = (dataset.StudyDescription
                                    or "Abdominal CT (TotalSegmentator example)")
        dataset.StudyID = dataset.get("StudyID") or "1"
        stream = io.BytesIO()
        dataset.save_as(stream, enforce_file_format=True)
        files.append((path.name, stream.getvalue()))
    return files


def masks_on_series(label_map: np.ndarray, label_affine: np.ndarray,
                    series_affine: np.ndarray, series_shape: tuple[int, int, int]) -> np.ndarray:
    """``label_map`` (z, y, x; ``label_affine`` index to LPS) resampled onto the series grid
    (``series_shape`` slices, rows, cols; ``series_affine``). Refused unless the grids coincide
    up to axis order and direction, voxel for voxel."""
    mapping = np.linalg.inv(label_affine) @ series_affine  # series (i, j, k) -> label (i, j, k)
    rotation, offset = mapping[:3, :3], mapping[:3, 3]
    signed = np.rint(rotation)
    whole = np.rint(offset)
    if (not np.allclose(rotation, signed, atol=1e-3) or not np.allclose(offset, whole, atol=1e-2)
            or sorted(np.abs(signed).sum(axis=0)) != [1, 1, 1]
            or sorted(np.abs(signed).sum(axis=1)) != [1, 1, 1]):
        raise DemoDataError(
            "The reference masks are not on the series' voxel grid (their affine maps series "
            f"voxels to {np.round(mapping[:3], 3).tolist()}); they cannot be laid over it "
            "without resampling."
        )
    slices, rows, cols = series_shape
    k, j, i = np.meshgrid(np.arange(slices), np.arange(rows), np.arange(cols), indexing="ij")
    source = signed.astype(int) @ np.stack([i.ravel(), j.ravel(), k.ravel()]) + whole.astype(
        int)[:, None]
    depth, height, width = label_map.shape
    inside = ((source[0] >= 0) & (source[0] < width) & (source[1] >= 0) & (source[1] < height)
              & (source[2] >= 0) & (source[2] < depth))
    if not inside.all():
        raise DemoDataError("The reference masks do not cover the whole series.")
    return label_map[source[2], source[1], source[0]].reshape(series_shape)


def _approved(site, key: str) -> PromptVersion | None:
    return PromptVersion.objects.filter(
        entry__site=site, entry__key=key, state=VersionState.APPROVED
    ).order_by("-number").first()


def _segments(site, labels: np.ndarray) -> tuple[list[Segment], dict[int, str], list[str]]:
    segments, structures, skipped = [], {}, []
    algorithm = Algorithm(engine="TotalSegmentator", engine_version="2.18.0",
                          weights_sha256="", prompt_version="none", source=SOURCE)
    for name, label in CT_LABELS.items():
        key = ENTRY_OF_LABEL[name]
        mask = (labels == label).astype(np.uint8)
        version = _approved(site, key)
        if version is None or not mask.any():
            skipped.append(f"{name} ({'no approved entry' if version is None else 'empty'})")
            continue
        try:
            codes = structure_codes(version.content)
        except UnexportableCode:
            skipped.append(f"{name} (entry has no codes)")
            continue
        segments.append(Segment(mask, version.content.get("name") or key, codes,
                                AlgorithmType.AUTOMATIC, algorithm,
                                colour=(version.content.get("display") or {}).get("colour")))
        structures[len(segments)] = key
    return segments, structures, skipped


def load_abdomen_demo(site, actor, root: Path | None = None) -> DemoReport | None:
    """Import the series (once) and the reference masks it lacks. None when already complete."""
    if not available(root):
        raise DemoDataError(
            f"The reference files are not in {reference_dir(root)}; run scripts/bootstrap.sh."
        )
    files = series_files(root)
    series_uid = str(pydicom.dcmread(io.BytesIO(files[0][1]), stop_before_pixels=True)
                     .SeriesInstanceUID)
    series = Series.objects.filter(site=site, series_instance_uid=series_uid).first()
    if series is None:
        report = do_ingest([(name, io.BytesIO(data), len(data)) for name, data in files],
                           site=site, actor=actor)
        series = Series.objects.filter(site=site, series_instance_uid=series_uid).first()
        if series is None:
            raise DemoDataError(f"The demo series was not imported: {report.summary()}")
    headers = access.series_datasets(series, "demo reference masks", actor=actor,
                                     headers_only=True)
    plan = plan_series(headers)
    labels = read_nifti(reference_dir(root) / MASK_FILE)
    label_map = np.rint(labels.voxels).astype(np.int16)
    on_series = masks_on_series(label_map, labels.affine, plan.affine,
                                (len(plan.order), plan.rows, plan.cols))
    segments, structures, skipped = _segments(site, on_series)
    have = set(ReferenceMask.objects.filter(series=series).values_list("structure_key",
                                                                      flat=True))
    wanted = [(s, structures[n + 1]) for n, s in enumerate(segments)
              if structures[n + 1] not in have]
    if not wanted:
        return None
    seg = build_seg(headers, plan.order, [s for s, _ in wanted], SegOptions(
        creator="TotalSegmentator^2.18.0", description=f"{SOURCE} reference masks",
        software_version=SOURCE,
        series_uid=generate_uid(entropy_srcs=[UID_SEED, "reference seg series"]),
        sop_uid=generate_uid(entropy_srcs=[UID_SEED, "reference seg",
                                           *sorted(k for _, k in wanted)]),
    ))
    stream = io.BytesIO()
    seg.save_as(stream)
    with transaction.atomic():
        imported = do_import_reference(
            actor, stream.getvalue(), source=ReferenceSource.PACKAGE,
            structures={n + 1: key for n, (_, key) in enumerate(wanted)})
    return DemoReport(series, [r.structure_key for r in imported], skipped)

