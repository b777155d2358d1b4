"""A volume (from NIfTI or NRRD) as a DICOM series, so one viewer path serves every format."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from model.imaging.geometry import ORIENTATION_UNKNOWN, PRIVATE_CREATOR, PRIVATE_GROUP
from model.imaging.volume import Volume

_SOP_CLASS_BY_MODALITY = {"CT": CTImageStorage, "MR": MRImageStorage}
_INT16 = np.iinfo(np.int16)


def volume_to_datasets(
    volume: Volume,
    *,
    patient_id: str,
    patient_name: str = "",
    modality: str = "OT",
    series_description: str = "",
    study_uid: str | None = None,
) -> list[Dataset]:
    """One single-frame DICOM image per slice with the volume's exact geometry.

    No date is invented: StudyDate and SeriesDate are not known from a volume file and are
    written empty (type 2). When ``volume.orientation_known`` is False the images say so
    (ImageComments and a private element); ImageOrientationPatient then only orders the slices.

    Values are stored as int16 with a rescale slope and intercept chosen so that integer volumes
    (CT in HU, label maps) are kept exactly and others to within 1/65535 of their range.
    """
    affine = volume.affine
    col_mm, row_mm, slice_mm = volume.spacing
    row_cosine = affine[:3, 0] / col_mm
    col_cosine = affine[:3, 1] / row_mm
    slope, intercept = _rescale_for(volume.voxels)
    stored = np.round((volume.voxels - intercept) / slope).astype(np.int16)
    study_uid = study_uid or generate_uid()
    series_uid = generate_uid()
    frame_of_reference = generate_uid()
    sop_class = _SOP_CLASS_BY_MODALITY.get(modality, SecondaryCaptureImageStorage)
    datasets = []
    for k in range(volume.shape[0]):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientID = patient_id
        ds.PatientName = patient_name
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_of_reference
        ds.StudyDate = ds.SeriesDate = ""
        ds.StudyTime = ""
        ds.Modality = modality
        ds.SeriesDescription = series_description[:64]
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.ConversionType = "WSD"
        ds.ImagePositionPatient = [_ds(v) for v in affine[:3] @ [0, 0, k, 1]]
        ds.ImageOrientationPatient = [_ds(v) for v in (*row_cosine, *col_cosine)]
        ds.PixelSpacing = [_ds(row_mm), _ds(col_mm)]
        ds.SliceThickness = _ds(slice_mm)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope = _ds(slope)
        ds.RescaleIntercept = _ds(intercept)
        if not volume.orientation_known:
            ds.ImageComments = "Patient orientation not established by the source"
            block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
            block.add_new(0x01, "LO", ORIENTATION_UNKNOWN)
        ds.PixelData = np.ascontiguousarray(stored[k]).astype("<i2").tobytes()
        datasets.append(ds)
    return datasets


def _rescale_for(voxels: np.ndarray) -> tuple[float, float]:
    low, high = float(voxels.min()), float(voxels.max())
    integral = bool(np.all(voxels == np.round(voxels)))
    if integral and low >= _INT16.min and high <= _INT16.max:
        return 1.0, 0.0
    span = max(high - low, 1e-6)
    slope = span / (_INT16.max - _INT16.min)
    return slope, low - _INT16.min * slope


def _ds(value: float) -> str:
    """A DS string (at most 16 characters) close to ``value``."""
    text = f"{float(value):.10g}"
    return text if len(text) <= 16 else f"{float(value):.8e}"
