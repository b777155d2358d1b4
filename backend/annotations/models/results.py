"""Results and their mask versions. The AI original (version 1) and every edit are kept as
immutable, content-hashed versions (21 CFR 11.10(e): prior versions are never obscured)."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations import masks


class ResultState(models.TextChoices):
    AI_DRAFT = "ai_draft", "AI draft"
    EDITED = "edited", "Edited"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"
    # Confirmed, then overruled at QA adjudication: not final, never exported; back on the
    # owner's worklist with the adjudicator's reason (review.actions.do_adjudicate).
    OVERTURNED = "overturned", "Overturned at QA"


UNCONFIRMED = (ResultState.AI_DRAFT, ResultState.EDITED)


class Result(models.Model):
    """A job's segmentation with everything it depends on.

    provenance: engine and version, weights sha256, prompt version (id, key, number), code
        version (git revision), parameters, duration, worker.
    slice_scores: predicted IoU per slice index.
    agreement: mean Dice between the result and re-runs with the prompt perturbed within
        the template's tolerance (null where not computed); low agreement flags the result.
        The check runs right after the result is stored (``agreement_pending`` meanwhile).
    flags: reasons for review, e.g. ``{"code": "volume_out_of_range", "message": ...}``.
    owner: who may edit, confirm or reject the draft: the requester of the job, until an
        audited reassignment (``annotations.actions.do_reassign_result``) names another
        annotator of the site.
    series_digest / series_content_version: the series content the result was made on (the
        digest of its instances' hashes, the same content identity the volume cache uses).
        When the series has changed since (a slice added), the result is stale
        (``annotations.staleness``): it cannot be edited or confirmed, only rejected.

    One confirmed result per series and structure (enforced by a partial unique index, so a
    race cannot make two): confirming a result while another confirmed result of the same
    series and structure exists is refused unless the confirmation explicitly supersedes it;
    the old one then becomes ``superseded`` with ``superseded_by`` pointing to the new one,
    audited. A finished job also supersedes its requester's unconfirmed drafts of the same
    series and structure (never a confirmed result, never another annotator's draft).
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
    agreement_pending = models.BooleanField(
        default=False,
        help_text="The agreement check runs after the result is stored; it cannot be "
        "confirmed until the check is recorded (annotations.agreement).",
    )
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
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="owned_results",
        help_text="The annotator who may edit, confirm or reject the draft.",
    )
    series_digest = models.CharField(max_length=64, blank=True)
    series_content_version = models.PositiveIntegerField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes",
        help_text="The confirmed result that replaced this one.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "structure_key"],
                condition=Q(state="confirmed"),
                name="annotations_one_confirmed_result_per_structure",
            )
        ]

    def __str__(self) -> str:
        return f"Result {self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is None:
            job = self.job if self.job_id else None
            if self.owner_id is None and job is not None:
                self.owner_id = job.created_by_id
            if not self.series_digest and self.series_id:
                from annotations.series_shape import series_digest

                self.series_digest = (job.series_digest if job is not None else "") or (
                    series_digest(self.series))
            if self.series_content_version is None and self.series_id:
                self.series_content_version = self.series.content_version
        super().save(*args, **kwargs)

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
    job / provenance: for a version made by an AI correction (``annotations.corrections``),
        the correction job and how it was made (engine, weights, prompt, the slices it
        re-segmented, why each walk stopped); empty for the AI original and hand edits, whose
        provenance is the result's and the editor's.
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
    # A plain foreign key (one correction makes at most one version): a unique column would
    # make SQLite rebuild the table, which drops its append-only triggers.
    job = models.ForeignKey(
        "annotations.Job", null=True, blank=True, on_delete=models.PROTECT,
        related_name="mask_versions",
    )
    provenance = models.JSONField(null=True, blank=True)

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
