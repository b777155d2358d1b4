"""Patient -> Study -> Series -> Instance, keyed by DICOM UIDs.

A site's images are its own: Study, Series and Instance each carry the site (the patient's,
set on save) and their UIDs are unique per site, not globally, so a site that receives a study
another site also holds stores its own copy and is never told the other copy exists.

Rows are written only by :mod:`imaging.actions`; patient data is read only through
:mod:`imaging.access`, which records every read in the audit trail.
"""

from django.db import models


class SourceFormat(models.TextChoices):
    DICOM = "dicom", "DICOM"
    NIFTI = "nifti", "NIfTI (converted)"
    NRRD = "nrrd", "NRRD (converted)"
    PACS = "pacs", "DICOM from PACS"


class Patient(models.Model):
    """A patient of one site. ``patient_id`` and ``issuer`` are DICOM PatientID and
    IssuerOfPatientID; name, birth date and sex are kept as DICOM sends them."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="patients")
    patient_id = models.CharField(max_length=64)
    issuer = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=324, blank=True)
    birth_date = models.CharField(max_length=8, blank=True)
    sex = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "patient_id", "issuer"], name="imaging_patient_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"Patient {self.pk}"


class Study(models.Model):
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="studies")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="studies")
    study_instance_uid = models.CharField(max_length=64)
    study_date = models.CharField(max_length=8, blank=True)
    study_time = models.CharField(max_length=16, blank=True)
    accession_number = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "study_instance_uid"], name="imaging_study_uid_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"Study {self.pk}"

    def save(self, *args, **kwargs):
        self.site_id = self.patient.site_id
        super().save(*args, **kwargs)


class Series(models.Model):
    """A series. ``problem_code``/``problem`` say why its images do not form one volume (set
    after each ingest; empty when the volume can be built). ``orientation_established`` is
    False when a viewer must not label the patient directions. ``content_version`` changes
    whenever instances are added, which invalidates the cached volume."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="series")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="series")
    series_instance_uid = models.CharField(max_length=64)
    modality = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=64, blank=True)
    series_number = models.IntegerField(null=True, blank=True)
    source_format = models.CharField(
        max_length=8, choices=SourceFormat.choices, default=SourceFormat.DICOM
    )
    problem_code = models.CharField(max_length=64, blank=True)
    problem = models.TextField(blank=True)
    content_version = models.PositiveIntegerField(default=0)
    orientation_established = models.BooleanField(
        null=True,
        blank=True,
        help_text="Whether the images establish where the patient's directions lie (every "
        "image has ImageOrientationPatient and none was marked by a conversion whose source "
        "did not record it); set on each ingest, None for series stored before the check.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "series_instance_uid"], name="imaging_series_uid_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"Series {self.pk}"

    def save(self, *args, **kwargs):
        self.site_id = self.study.site_id
        super().save(*args, **kwargs)

    def orientation_is_established(self, headers) -> bool:
        """The stored flag, or for a series stored before the check, the check on ``headers``
        (the series' images, headers only)."""
        if self.orientation_established is not None:
            return self.orientation_established
        from model.imaging.geometry import orientation_established

        return orientation_established(headers)


def instance_path(instance: "Instance", filename: str) -> str:
    """Under the site's own folder, so two sites' copies of one study never share a path."""
    return (
        f"imaging/site-{instance.series.site_id}/{instance.series.study.study_instance_uid}/"
        f"{instance.series.series_instance_uid}/{instance.sop_instance_uid}.dcm"
    )


class Instance(models.Model):
    """One stored DICOM Part 10 file; ``sha256`` of its bytes decides duplicate vs conflict."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="instances")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="instances")
    sop_instance_uid = models.CharField(max_length=64)
    sop_class_uid = models.CharField(max_length=64)
    transfer_syntax_uid = models.CharField(max_length=64)
    instance_number = models.IntegerField(null=True, blank=True)
    number_of_frames = models.PositiveIntegerField(default=1)
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    file = models.FileField(upload_to=instance_path, max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instance_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "sop_instance_uid"], name="imaging_instance_uid_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"Instance {self.pk}"

    def save(self, *args, **kwargs):
        self.site_id = self.series.site_id
        super().save(*args, **kwargs)
