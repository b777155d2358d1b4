"""What left the system (exports) and what came in as ground truth (reference masks).

Only :mod:`exports.actions` writes these models; each write has its audit entry in the same
transaction.
"""
from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    SEG_BINARY = "seg_binary", "DICOM SEG (binary)"
    SEG_LABELMAP = "seg_labelmap", "DICOM SEG (label map)"
    NIFTI = "nifti", "NIfTI"


class Destination(models.TextChoices):
    DOWNLOAD = "download", "download"
    PACS = "pacs", "PACS (STOW-RS)"


class ExportRecord(models.Model):
    """One export of confirmed results.

    masks: per result, the confirmed mask version written: ``[{result, version, sha256}]``.
    sop_instance_uid / series_instance_uid: of the SEG written (empty for NIfTI).
    sha256 / size: of the bytes handed out or sent.
    destination / pacs_url: where they went.
    """

    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    destination = models.CharField(max_length=8, choices=Destination.choices)
    results = models.ManyToManyField("annotations.Result", related_name="exports")
    series = models.ForeignKey("imaging.Series", on_delete=models.PROTECT, related_name="+")
    masks = models.JSONField()
    sop_instance_uid = models.CharField(max_length=64, blank=True)
    series_instance_uid = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    pacs_url = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.get_format_display()}, {self.destination})"


class ReferenceSource(models.TextChoices):
    UPLOAD = "upload", "uploaded SEG"
    PACS = "pacs", "SEG from the PACS"
    PACKAGE = "package", "reference data from a package (demo)"


class ReferenceMask(models.Model):
    """An expert's mask of one structure on one series, imported from a DICOM SEG, against
    which results are compared (QA) and the prompt library's robustness is scored.

    structure_key: the prompt entry key the segment's codes matched (``kidney-left-ct``).
    codes: the segment's category, type and laterality as ``{code, scheme, meaning}``.
    data / shape / sha256: the mask as ``annotations.masks`` stores masks, in the series
        volume's slice order; sha256 of the unpacked uint8 voxels (the content hash).
    source / seg_sop_instance_uid / seg_sha256 / segment_number: which SEG file and which
        segment of it the mask came from, and the hash of that file's bytes.
    """

    series = models.ForeignKey(
        "imaging.Series", on_delete=models.PROTECT, related_name="reference_masks"
    )
    structure_key = models.SlugField(max_length=64)
    label = models.CharField(max_length=64)
    codes = models.JSONField()
    data = models.BinaryField()
    shape = models.JSONField()
    sha256 = models.CharField(max_length=64)
    voxel_count = models.PositiveBigIntegerField()
    source = models.CharField(max_length=8, choices=ReferenceSource.choices)
    seg_sop_instance_uid = models.CharField(max_length=64)
    seg_sha256 = models.CharField(max_length=64)
    segment_number = models.PositiveIntegerField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["series", "structure_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "structure_key"], name="exports_one_reference_per_structure"
            )
        ]

    def __str__(self) -> str:
        return f"Reference {self.structure_key} on series {self.series_id}"
