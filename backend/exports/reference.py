"""Reading an existing DICOM SEG (uploaded or from the PACS) as reference masks of a series.

A reference mask is an expert's segmentation of one structure. It is laid out exactly like a
result's mask (the series volume's slice order), so QA compares results with it voxel for
voxel and the robustness score uses it as the truth of a reference case.

Each segment is matched to a prompt entry of the series' site by its structure codes (type
and laterality; see :func:`exports.codes.same_structure`). Nothing here writes: the import
itself is ``exports.actions.do_import_reference``.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

import highdicom as hd
import numpy as np
import pydicom
from django.core.exceptions import ValidationError
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging import access
from imaging.limits import check_decoded_dicom, check_dicom_bytes
from imaging.models import Series
from model.imaging import ImagingError, plan_series
from prompts.models import PromptVersion, VersionState

from .codes import StructureCodes, UnexportableCode, concept, same_structure, structure_codes

SEG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation Storage",
    "1.2.840.10008.5.1.4.1.1.66.7": "Label Map Segmentation Storage",
}


class ReferenceImportError(ValidationError):
    """The SEG cannot serve as a reference; the message says why."""


@dataclass(frozen=True)
class ImportedSegment:
    number: int
    label: str
    codes: StructureCodes
    structure_key: str
    mask: np.ndarray  # uint8 (slices, rows, cols) in the series volume's order


@dataclass(frozen=True)
class ImportedSeg:
    series: Series
    sop_instance_uid: str
    sha256: str
    segments: list[ImportedSegment]


def parse_seg_bytes(data: bytes) -> Dataset:
    try:
        # The decoded-size cap of every image read from outside (issue 20 item 7), before a
        # deflated data set is inflated or the segment frames are unpacked.
        check_dicom_bytes(data)
        dataset = pydicom.dcmread(io.BytesIO(data))
        check_decoded_dicom(dataset)
    except ImagingError as error:
        raise ReferenceImportError({"file": f"The file is refused: {error.message}."}) from None
    except (InvalidDicomError, EOFError, ValueError, OSError):
        raise ReferenceImportError({"file": "The file is not a readable DICOM file."}) from None
    return dataset


def read_reference_seg(dataset: Dataset, data_sha256: str, site, *, actor=None,
                       structures: dict[int, str] | None = None) -> ImportedSeg:
    """Match a SEG to a series of ``site`` and each of its segments to a prompt entry.

    ``structures`` maps segment numbers to entry keys where the codes do not decide.
    """
    if str(dataset.get("SOPClassUID", "")) not in SEG_SOP_CLASSES:
        raise ReferenceImportError({"file": "The file is not a DICOM Segmentation (SEG)."})
    try:
        seg = hd.seg.Segmentation.from_dataset(dataset, copy=False)
    except (AttributeError, KeyError, ValueError, TypeError) as exc:
        raise ReferenceImportError({"file": f"The SEG cannot be read: {exc}"}) from None
    series = _referenced_series(seg, site)
    headers = access.series_datasets(series, "reference import", actor=actor, headers_only=True)
    masks = _masks_in_volume_order(seg, headers)
    entries = _site_structures(series)
    segments = []
    for number in seg.get_segment_numbers():
        description = seg.get_segment_description(number)
        codes = _segment_codes(description)
        key = (structures or {}).get(number) or _match(codes, entries, series.modality,
                                                      description.segment_label)
        segments.append(ImportedSegment(number, str(description.segment_label), codes, key,
                                        masks[number]))
    return ImportedSeg(series, str(seg.SOPInstanceUID), data_sha256, segments)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _referenced_series(seg: hd.seg.Segmentation, site) -> Series:
    series_uids = {series_uid for _, series_uid, _ in seg.get_source_image_uids()}
    if not series_uids:
        raise ReferenceImportError(
            {"file": "The SEG does not say which images it was drawn on (no referenced "
             "instances), so it cannot be laid over a series."}
        )
    found = list(Series.objects.filter(site=site, series_instance_uid__in=series_uids))
    if len(found) != 1:
        raise ReferenceImportError(
            {"file": f"The SEG was drawn on series {', '.join(sorted(series_uids))}, which is "
             "not among this site's images; import that study first."}
        )
    return found[0]


def _masks_in_volume_order(seg: hd.seg.Segmentation, headers: Sequence[Dataset]) -> dict:
    """Each segment's mask over the series, frames the SEG does not cover left empty; a
    fractional segment counts where its value is at least one half."""
    plan = plan_series(headers)
    numbers = list(seg.get_segment_numbers())
    options = {"segment_numbers": numbers, "dtype": np.float32,
               "assert_missing_frames_are_empty": True}
    try:
        if len(headers) == 1 and len(plan.order) > 1:
            frames = seg.get_pixels_by_source_frame(
                str(headers[0].SOPInstanceUID), [ref.frame_index + 1 for ref in plan.order],
                **options)
        else:
            uids = [str(headers[ref.dataset_index].SOPInstanceUID) for ref in plan.order]
            frames = seg.get_pixels_by_source_instance(uids, **options)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ReferenceImportError(
            {"file": f"The SEG frames cannot be laid over the series images: {exc}"}
        ) from None
    if frames.shape[1:3] != (plan.rows, plan.cols):
        raise ReferenceImportError(
            {"file": f"The SEG frames are {frames.shape[1]}x{frames.shape[2]}; the series "
             f"images are {plan.rows}x{plan.cols}."}
        )
    return {n: np.ascontiguousarray(frames[..., i] >= 0.5, dtype=np.uint8)
            for i, n in enumerate(numbers)}


def _segment_codes(description: hd.seg.SegmentDescription) -> StructureCodes:
    type_item = description.SegmentedPropertyTypeCodeSequence[0]
    modifiers = type_item.get("SegmentedPropertyTypeModifierCodeSequence") or []

    def plain(item) -> dict:
        return {"code": item.CodeValue, "scheme": item.CodingSchemeDesignator,
                "meaning": item.CodeMeaning}

    try:
        return StructureCodes(
            concept(plain(description.SegmentedPropertyCategoryCodeSequence[0])),
            concept(plain(type_item)),
            concept(plain(modifiers[0])) if modifiers else None,
        )
    except ValueError as exc:
        raise ReferenceImportError(
            {"file": f"Segment {description.segment_number}: {exc}."}
        ) from None


def _site_structures(series: Series) -> list[tuple[str, str, StructureCodes]]:
    """(key, modality, codes) of every approved prompt entry of the series' site."""
    found = []
    versions = PromptVersion.objects.filter(
        state=VersionState.APPROVED, entry__site=series.study.patient.site_id
    ).select_related("entry")
    for version in versions:
        try:
            found.append((version.entry.key, version.entry.modality,
                          structure_codes(version.content)))
        except UnexportableCode:
            continue
    return found


def _match(codes: StructureCodes, entries, modality: str, label: str) -> str:
    matches = [(key, mod) for key, mod, known in entries if same_structure(codes, known)]
    same_modality = [key for key, mod in matches if mod == modality]
    keys = same_modality or [key for key, _ in matches]
    if len(keys) == 1:
        return keys[0]
    side = f", {codes.laterality.meaning}" if codes.laterality is not None else ""
    what = f"segment {label!r} ({codes.type.meaning}{side})"
    if not keys:
        raise ReferenceImportError(
            {"structures": f"No approved prompt entry of this site matches {what}; name the "
             "structure for it."}
        )
    raise ReferenceImportError(
        {"structures": f"Several prompt entries match {what} ({', '.join(sorted(keys))}); "
         "name the structure for it."}
    )
