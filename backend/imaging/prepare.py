"""Validating incoming files before anything is stored: each becomes a :class:`PreparedImage`
(a checked DICOM image with its bytes) or a rejected :class:`FileOutcome` with the reason."""

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import UID

from model.imaging import (
    ImagingError,
    decode_frames,
    read_dicom,
    read_volume,
    to_part10_bytes,
    volume_format,
    volume_to_datasets,
)

from . import limits
from .outcomes import FileOutcome, rejected
from .uploads import IncomingFile

logger = logging.getLogger(__name__)

_UID_KEYWORDS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "SOPClassUID")


@dataclass
class PreparedImage:
    """A DICOM image whose header parsed, pixel data decoded and UIDs are valid.

    ``origin`` is the user's file name; several images share it when a NIfTI or NRRD file
    was converted to a series."""

    origin: str
    data: bytes
    header: Dataset
    sha256: str

    @property
    def sop_instance_uid(self) -> str:
        return str(self.header.SOPInstanceUID)

    @property
    def series_uid(self) -> str:
        return str(self.header.SeriesInstanceUID)

    @property
    def patient_key(self) -> tuple[str, str]:
        return str(self.header.get("PatientID", "")), str(self.header.get("IssuerOfPatientID", ""))


def prepare(
    incoming: IncomingFile,
    *,
    patient_id: str = "",
    modality: str = "",
    max_decoded_bytes: int | None = None,
) -> list[PreparedImage] | FileOutcome:
    """Check one file; NIfTI and NRRD become a generated DICOM series of ``modality`` (they
    carry none themselves; "OT" when not given). An image that would decode to more than
    ``max_decoded_bytes`` (default: :func:`imaging.limits.max_decoded_bytes`) is refused from
    its header, before it is decoded."""
    if max_decoded_bytes is None:
        max_decoded_bytes = limits.max_decoded_bytes()
    kind = volume_format(incoming.name)
    try:
        if kind is not None:
            return _prepare_volume_file(incoming, kind, patient_id, modality, max_decoded_bytes)
        return [_prepare_dicom(incoming.name, incoming.data, max_decoded_bytes)]
    except ImagingError as error:
        return rejected(incoming.name, error.code, error.message)
    except Exception as error:  # a bad file must never abort the others
        logger.warning("unexpected %s while checking an upload", type(error).__name__)
        return rejected(incoming.name, "corrupt", "the file is damaged and cannot be read")


def _prepare_dicom(origin: str, data: bytes, max_decoded_bytes: int) -> PreparedImage:
    dataset = read_dicom(data, max_decoded_bytes=max_decoded_bytes)
    decode_frames(dataset, max_decoded_bytes=max_decoded_bytes)
    for keyword in _UID_KEYWORDS:
        value = str(dataset.get(keyword, ""))
        if not value or len(value) > 64 or not UID(value).is_valid:
            raise InvalidUidError(f"the image has no valid {keyword}")
    if "PixelData" in dataset:
        del dataset.PixelData
    return PreparedImage(origin, data, dataset, hashlib.sha256(data).hexdigest())


class InvalidUidError(ImagingError):
    code = "invalid_uid"


def _prepare_volume_file(
    incoming: IncomingFile, kind: str, patient_id: str, modality: str, max_decoded_bytes: int
) -> list[PreparedImage]:
    suffix = "".join(Path(incoming.name).suffixes[-2:]) if kind == "nifti" else ".nrrd"
    if kind == "nifti" and not suffix.lower().endswith((".nii", ".nii.gz")):
        suffix = ".nii"
    if incoming.name.lower().endswith(".nhdr"):
        raise VolumeFileError("detached NRRD headers (.nhdr) must be sent with their data as .nrrd")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"volume{suffix}"
        path.write_bytes(incoming.data)
        volume = read_volume(path, max_decoded_bytes=max_decoded_bytes, untrusted=True)
    digest = hashlib.sha256(incoming.data).hexdigest()
    datasets = volume_to_datasets(
        volume,
        patient_id=patient_id or f"ANON-{digest[:12]}",
        modality=modality or volume.modality or "OT",
        series_description=f"Converted from {kind.upper()}",
    )
    prepared = []
    for dataset in datasets:
        data = to_part10_bytes(dataset)
        del dataset.PixelData
        prepared.append(
            PreparedImage(incoming.name, data, dataset, hashlib.sha256(data).hexdigest())
        )
    return prepared


class VolumeFileError(ImagingError):
    code = "unsupported_format"
