"""Typed errors for images that cannot become a volume.

Every message says what is wrong with the file or series and what to do about it. Messages never
contain patient data (names, identifiers, dates, UIDs, descriptions) or file paths, so they can be
shown to users, returned by the API and written to logs as they are. ``code`` is a stable
machine-readable reason for clients and tests.
"""

from __future__ import annotations


class ImagingError(Exception):
    """Base class: an input file or series that cannot be read as an image volume."""

    code = "imaging_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotDicomError(ImagingError):
    """The file is not a DICOM Part 10 file (no 'DICM' preamble)."""

    code = "not_dicom"


class CorruptFileError(ImagingError):
    """The file claims a format but its contents cannot be parsed."""

    code = "corrupt"


class TruncatedFileError(ImagingError):
    """The file ends before the data it declares."""

    code = "truncated"


class NoPixelDataError(ImagingError):
    """A DICOM object without an image (a report, a plan, a structure set...)."""

    code = "no_pixel_data"


class UnsupportedTransferSyntaxError(ImagingError):
    """The pixel data is encoded in a transfer syntax no installed decoder handles."""

    code = "unsupported_transfer_syntax"


class PixelDecodeError(ImagingError):
    """The transfer syntax is supported but this file's pixel data does not decode."""

    code = "decode_failed"


class UnsupportedFormatError(ImagingError):
    """Neither DICOM, NIfTI nor NRRD, or a variant of them that we do not read (4D, vector)."""

    code = "unsupported_format"


class InconsistentSeriesError(ImagingError):
    """Images that do not form one regular volume; building one would give a wrong geometry."""

    code = "inconsistent_series"


class MixedSeriesError(InconsistentSeriesError):
    """Images from more than one series (or patient) were given as one series."""

    code = "mixed_series"


class OrientationMismatchError(InconsistentSeriesError):
    code = "orientation_mismatch"


class PixelSpacingMismatchError(InconsistentSeriesError):
    code = "pixel_spacing_mismatch"


class MatrixSizeMismatchError(InconsistentSeriesError):
    code = "matrix_size_mismatch"


class MissingSlicesError(InconsistentSeriesError):
    """The gap between two neighbouring slices is a multiple of the regular spacing."""

    code = "missing_slices"


class IrregularSpacingError(InconsistentSeriesError):
    """Slice gaps vary without being whole multiples of the regular spacing."""

    code = "irregular_spacing"


class DuplicatePositionError(InconsistentSeriesError):
    """Two images at the same position (several phases, echoes or acquisitions in one series)."""

    code = "duplicate_position"


class InvalidGeometryError(InconsistentSeriesError):
    """Missing or invalid position, orientation or spacing attributes."""

    code = "invalid_geometry"


class DecodedSizeError(ImagingError):
    """The image would take more memory once decoded than the configured limit allows.

    Checked from the header (or while streaming a compressed part) before anything that size
    is allocated, so a small file that declares or inflates to a huge image is refused cheaply.
    """

    code = "decoded_too_large"
