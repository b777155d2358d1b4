"""Building a DICOM Segmentation (SEG) with highdicom from confirmed masks (no Django).

Masks are (slices, rows, cols) in the assembled volume's slice order, which is the order of
the source frames along the normal of the image plane (``model.imaging.plan_series``), not
the stored or InstanceNumber order. :func:`build_seg` maps each slice back to its source frame,
so every SEG frame references the image it was drawn on.

>>> seg = build_seg(headers, order, [segment], SegOptions(creator="Doe^Jane"))  # doctest: +SKIP
>>> seg.save_as("kidneys.dcm")                                                  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from model.imaging.series import FrameRef
from prompts.codes import PRIVATE_SCHEME

from .codes import ALGORITHM_FAMILY, StructureCodes, private_scheme_declaration

MANUFACTURER = "MedSAM-2 annotation app"
MODEL_NAME = "MedSAM-2 annotation"
SEG_SERIES_NUMBER = 9001
"""Series number of exported SEG series; high so they sort after the acquired series."""
PATIENT_STUDY_TYPE2 = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID",
    "StudyDate", "StudyTime", "ReferringPhysicianName",
)
"""Type 2 attributes the SEG copies from its source; images converted from NIfTI or NRRD lack
some, so they are written empty, as the standard allows, instead of failing the export."""


class SegType(StrEnum):
    BINARY = "BINARY"
    LABELMAP = "LABELMAP"


class AlgorithmType(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"


class SegExportError(ValueError):
    """The masks cannot be written as asked; the message says why and what to do."""


class SegNotPossible(SegExportError):
    """No SEG can be made for this series at all, whatever is chosen (its images lack what a
    SEG must reference); the message says why and that NIfTI remains. Answered as 409."""


NO_FRAME_OF_REFERENCE = ("SEG cannot be made for this series: its images have no Frame of "
                         "Reference UID; NIfTI is available.")
NO_PATIENT_POSITION = ("SEG cannot be made for this series: its images carry no position in "
                       "the patient (a cine loop or photographs), so a SEG could cover only one "
                       "of them; NIfTI is available.")
SEVERAL_MULTIFRAME = ("SEG cannot be made for this series: it holds several multi-frame images, "
                      "and a SEG references one multi-frame image or many single-frame images; "
                      "NIfTI is available.")


@dataclass(frozen=True)
class Algorithm:
    """Who made the mask: the engine, its version (weights sha256, short) and the prompt."""

    engine: str
    engine_version: str
    weights_sha256: str
    prompt_version: str  # e.g. "kidney-left-ct v3"
    source: str = MANUFACTURER  # who made the algorithm (another tool's masks name it)

    @property
    def version(self) -> str:
        text = f"{self.engine_version or 'unversioned'} weights {self.weights_sha256[:12]}"
        return text[:64]

    def identification(self) -> hd.AlgorithmIdentificationSequence:
        return hd.AlgorithmIdentificationSequence(
            name=self.engine[:64],
            family=ALGORITHM_FAMILY,
            version=self.version,
            source=self.source[:64],
            parameters={
                "weights_sha256": self.weights_sha256[:12],
                "prompt_version": self.prompt_version,
            },
        )


@dataclass(frozen=True)
class Segment:
    mask: np.ndarray  # uint8 (slices, rows, cols) in volume order
    label: str
    codes: StructureCodes
    algorithm_type: AlgorithmType
    algorithm: Algorithm
    colour: str | None = None  # "#rrggbb"
    tracking_id: str = ""
    tracking_uid: str | None = None


@dataclass(frozen=True)
class SegOptions:
    creator: str  # DICOM PN of the confirming clinician
    seg_type: SegType = SegType.BINARY
    description: str = "Confirmed segmentation"
    series_description: str = "MedSAM-2 segmentation (confirmed)"
    software_version: str = "unknown"
    series_uid: str = field(default_factory=generate_uid)
    sop_uid: str = field(default_factory=generate_uid)


def build_seg(
    sources: Sequence[Dataset], order: Sequence[FrameRef], segments: Sequence[Segment],
    options: SegOptions,
) -> hd.seg.Segmentation:
    """The SEG of ``segments`` over the images ``sources`` (headers suffice), where
    ``order[k]`` names the source frame of mask slice ``k``."""
    if not segments:
        raise SegExportError("Nothing to export: give at least one confirmed result.")
    problem = seg_problem(sources, order)
    if problem:
        raise SegNotPossible(problem)
    source_images, frame_of_slice = _source_frames(sources, order)
    expected = (len(order), int(sources[0].Rows), int(sources[0].Columns))
    stacked = np.zeros((len(frame_of_slice), *expected[1:], len(segments)), dtype=bool)
    for number, segment in enumerate(segments):
        if segment.mask.shape != expected:
            raise SegExportError(
                f"The mask of {segment.label!r} has shape {segment.mask.shape}; the series "
                f"is {expected}. Images were added or removed after the result; segment the "
                "series again."
            )
        stacked[frame_of_slice, ..., number] = segment.mask.astype(bool)
    if options.seg_type is SegType.LABELMAP and np.any(stacked.sum(axis=-1) > 1):
        raise SegExportError(
            "The structures overlap, so they cannot share one label map; export a BINARY SEG "
            "or export the structures separately."
        )
    try:
        seg = _segmentation(source_images, stacked, segments, options)
    except ValueError as exc:
        # highdicom's own refusal of the source images: a 409 with its words, never a 500.
        raise SegNotPossible(f"SEG cannot be made for this series: {exc} NIfTI is available."
                             ) from exc
    if any(PRIVATE_SCHEME in s.codes.schemes for s in segments):
        seg.CodingSchemeIdentificationSequence = [private_scheme_declaration()]
    return seg


def _segmentation(source_images, stacked, segments, options) -> hd.seg.Segmentation:
    return hd.seg.Segmentation(
        source_images=source_images,
        pixel_array=stacked,
        segmentation_type=options.seg_type.value,
        segment_descriptions=[_description(n + 1, s) for n, s in enumerate(segments)],
        series_instance_uid=options.series_uid,
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=options.sop_uid,
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=options.software_version[:64],
        device_serial_number="none",
        content_description=options.description[:64],
        content_label="MEDSAM_SEG",
        content_creator_name=options.creator,
        omit_empty_frames=bool(stacked.any()),
        series_description=options.series_description[:64],
    )


def seg_problem(sources: Sequence[Dataset], order: Sequence[FrameRef]) -> str | None:
    """Why no SEG can be made over these images (headers suffice), in the user's words, or
    None when one can. ``order`` is the volume's slice order (``plan_series``)."""
    if not sources:
        return "SEG cannot be made for this series: it holds no images."
    for source in sources:
        if "FrameOfReferenceUID" not in source and _frame_of_reference_required(source):
            return NO_FRAME_OF_REFERENCE
    first = sources[order[0].dataset_index] if order else sources[0]
    if len(order) > 1 and hd.spatial.get_image_coordinate_system(first) is None:
        return NO_PATIENT_POSITION
    multi = [int(getattr(d, "NumberOfFrames", 1) or 1) > 1 for d in sources]
    if any(multi) and len(sources) > 1:
        return SEVERAL_MULTIFRAME
    return None


def _frame_of_reference_required(source: Dataset) -> bool:
    # highdicom's own table of the IODs (the one it refuses by, in Segmentation()).
    from highdicom._standard_utils import ModuleUsageValues, get_module_usage

    try:
        usage = get_module_usage("frame-of-reference", str(source.SOPClassUID))
    except (AttributeError, KeyError, ValueError):
        return True
    return usage == ModuleUsageValues.MANDATORY


def _source_frames(
    sources: Sequence[Dataset], order: Sequence[FrameRef]
) -> tuple[list[Dataset], np.ndarray]:
    """The source images as highdicom wants them and, per mask slice, its SEG frame index."""
    sources = [_with_patient_study_attributes(d) for d in sources]
    multi = [int(getattr(d, "NumberOfFrames", 1) or 1) > 1 for d in sources]
    if not any(multi):
        return [sources[ref.dataset_index] for ref in order], np.arange(len(order))
    if len(sources) == 1:
        return [sources[0]], np.array([ref.frame_index for ref in order])
    raise SegNotPossible(SEVERAL_MULTIFRAME)


def _with_patient_study_attributes(source: Dataset) -> Dataset:
    missing = [k for k in PATIENT_STUDY_TYPE2 if k not in source]
    if not missing:
        return source
    completed = Dataset(source)
    for keyword in missing:
        setattr(completed, keyword, "")
    return completed


def _description(number: int, segment: Segment) -> hd.seg.SegmentDescription:
    description = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=segment.label[:64],
        segmented_property_category=segment.codes.category,
        segmented_property_type=segment.codes.type,
        algorithm_type=segment.algorithm_type.value,
        algorithm_identification=segment.algorithm.identification(),
        tracking_id=segment.tracking_id or None,
        tracking_uid=segment.tracking_uid if segment.tracking_id else None,
        display_color=hd.color.CIELabColor.from_string(segment.colour) if segment.colour else None,
    )
    if segment.codes.laterality is not None:
        # Without the modifier left and right organs of one type are indistinguishable.
        type_item = description.SegmentedPropertyTypeCodeSequence[0]
        type_item.SegmentedPropertyTypeModifierCodeSequence = [segment.codes.laterality]
    return description
