"""Medical image input and output without Django: DICOM, NIfTI and NRRD to :class:`Volume`.

>>> from model.imaging import read_volume, write_mask        # doctest: +SKIP
>>> volume = read_volume("ct_series/")                        # doctest: +SKIP
>>> write_mask((volume.voxels > 300).astype("uint8"), volume, "bone.nii.gz")  # doctest: +SKIP
"""

from model.imaging.decode import decode_frames
from model.imaging.dicom_export import volume_to_datasets
from model.imaging.dicom_file import read_dicom, require_pixel_data, to_part10_bytes
from model.imaging.errors import ImagingError, InconsistentSeriesError
from model.imaging.files import read_volume, volume_format, write_mask
from model.imaging.series import SeriesPlan, assemble_volume, check_compatible, plan_series
from model.imaging.volume import Volume

__all__ = [
    "ImagingError",
    "InconsistentSeriesError",
    "SeriesPlan",
    "Volume",
    "assemble_volume",
    "check_compatible",
    "decode_frames",
    "plan_series",
    "read_dicom",
    "read_volume",
    "require_pixel_data",
    "to_part10_bytes",
    "volume_format",
    "volume_to_datasets",
    "write_mask",
]
