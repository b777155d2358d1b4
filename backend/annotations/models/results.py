"""Results and their mask versions. The AI original (version 1) and every edit are kept as
immutable, content-hashed versions (21 CFR 11.10(e): prior versions are never obscured)."""
from django.conf import settings
from django.db import models

from annotations import masks


class ResultState(models.TextChoices):
    AI_DRAFT = "ai_draft", "AI draft"
    EDITED = "edited", "Edited"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


UNCONFIRMED = (ResultState.AI_DRAFT, ResultState.EDITED)


class Result(models.Model):
    """A job's segmentation with everything it depends on.

    provenance: engine and version, weights sha256, prompt version (id, key, number), code
        version (git revision), parameters, duration, worker.
    slice_scores: predicted IoU per slice index.
    agreement: mean Dice between the result and re-runs with the prompt perturbed within
        the template's tolerance (null where not computed); low agreement flags the result.
    flags: reasons for review, e.g. ``{"code": "volume_out_of_range", "message": ...}``.
    """

    job = models.OneToOneField("annotations.Job", on_delete=models.PROTECT, related_name="result")
    series = models.ForeignKey("imaging.Series", on_delete=models.PROTECT, related_name="results")
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.PROTECT, related_name="results"
    )
    structure_key = models.SlugField(max_length=64, db_index=True)
    state = models.CharField(
        max_length=12, choices=ResultState.choices, default=ResultState.AI_DRAFT, db_index=True
    )
    provenance = models.JSONField()
    slice_scores = models.JSONField(default=dict)
    agreement = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    final_version = models.OneToOneField(
        "annotations.MaskVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="The mask version that was confirmed or rejected.",
    )
    signature = models.OneToOneField(
        "audit.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Result {self.pk}"

    @property
    def edited(self) -> bool:
        """Whether a clinician changed the AI original (SEG algorithm type SEMIAUTOMATIC)."""
        version = self.final_version or self.latest_mask()
        return version is not None and version.number > 1

    def latest_mask(self) -> "MaskVersion":
        return self.mask_versions.order_by("-number").first()


class MaskVersion(models.Model):
    """One immutable version of a result's mask. Number 1 is the AI original.

    data: the mask as bit-packed, zlib-compressed bytes (``annotations.masks``), exactly
        what the viewer downloads.
    sha256: of the unpacked uint8 mask bytes (C order) -- what signatures bind to.
    shape: (slices, rows, cols).
    """

    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="mask_versions")
    number = models.PositiveIntegerField()
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    shape = models.JSONField()
    voxel_count = models.PositiveBigIntegerField()
    volume_ml = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["result", "number"]
        constraints = [
            models.UniqueConstraint(fields=["result", "number"], name="annotations_mask_number")
        ]

    def __str__(self) -> str:
        return f"Mask {self.result_id} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A mask version is immutable; save an edit as a new version.")
        super().save(*args, **kwargs)

    def content_sha256(self) -> str:
        """The content hash recomputed from the stored bytes, as signatures are checked (the
        ``sha256`` column is only what was stored beside them). ValueError for bytes that do
        not decode to ``shape``."""
        return masks.content_sha256(masks.decode(bytes(self.data), tuple(self.shape)))


class ResultTransition(models.Model):
    """Each change of a result's state as a row: who, when, from, to, why."""

    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mask_version = models.PositiveIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
