"""The QA queue: a sampling decision for every confirmed result, a QA item for each sampled
one, and every change of an item's state as a row (who, when, from, to, why)."""
from django.conf import settings
from django.db import models

from .policy import ReviewMode


class SamplingDecision(models.Model):
    """Why a confirmed result was or was not sampled, recomputable from the stored inputs.

    draw: sha256(``seed:result id``) as a number in [0, 1); the result is sampled at random
        when it is below ``rate`` (the prompt version's ``qa.sampling_rate``).
    reasons: ``[{"code": ..., "detail": ...}]``; codes ``random``, ``flagged``,
        ``new_version``, ``watched_annotator``. Empty when not sampled.
    """

    result = models.OneToOneField(
        "annotations.Result", on_delete=models.PROTECT, related_name="qa_sampling"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    seed = models.CharField(max_length=64)
    rate = models.FloatField()
    draw = models.FloatField()
    reasons = models.JSONField(default=list)
    sampled = models.BooleanField()

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"Sampling of result {self.result_id}: {'sampled' if self.sampled else 'not'}"


class QAState(models.TextChoices):
    SAMPLED = "sampled", "sampled"
    IN_REVIEW = "in_review", "in review"
    AGREED = "agreed", "agreed"
    DISAGREED = "disagreed", "disagreed"
    ADJUDICATED = "adjudicated", "adjudicated"


OPEN_STATES = (QAState.SAMPLED, QAState.IN_REVIEW)


class Verdict(models.TextChoices):
    AGREE = "agree", "agree"
    DISAGREE = "disagree", "disagree"


class Adjudication(models.TextChoices):
    UPHELD = "upheld", "confirmed mask upheld"
    OVERTURNED = "overturned", "confirmed mask overturned"


class QAItem(models.Model):
    """A sampled confirmed result in the review queue.

    mode: the site's ``ReviewMode`` when the result was sampled.
    reasons: copied from the sampling decision; hidden from the reviewer until the verdict.
    reviewer: the second reader, set when they start; may not be a reader of the result.
    reader_mask / reader_mask_sha256 / reader_mask_shape: the reviewer's own mask in the
        independent mode (``annotations.masks`` encoding); ``reader_dice`` its Dice with the
        confirmed mask, computed when it is stored.
    verdict / verdict_reason / review_signature: agree or disagree, signed ("reviewed").
    adjudicator / adjudication / adjudication_reason / adjudication_signature: the third
        person's ruling on a disagreement, signed ("adjudicated").
    """

    result = models.OneToOneField(
        "annotations.Result", on_delete=models.PROTECT, related_name="qa_item"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=12, choices=QAState.choices, default=QAState.SAMPLED, db_index=True
    )
    mode = models.CharField(max_length=12, choices=ReviewMode.choices)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_started_at = models.DateTimeField(null=True, blank=True)
    reader_mask = models.BinaryField(null=True, blank=True)
    reader_mask_sha256 = models.CharField(max_length=64, blank=True)
    reader_mask_shape = models.JSONField(null=True, blank=True)
    reader_dice = models.FloatField(null=True, blank=True)
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    verdict_reason = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_signature = models.OneToOneField(
        "audit.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjudication = models.CharField(max_length=12, choices=Adjudication.choices, blank=True)
    adjudication_reason = models.TextField(blank=True)
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    adjudication_signature = models.OneToOneField(
        "audit.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"QA item {self.pk} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def independent(self) -> bool:
        return self.mode == ReviewMode.INDEPENDENT


class QATransition(models.Model):
    """One change of a QA item's state: who, when, from, to, why."""

    item = models.ForeignKey(QAItem, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"QA item {self.item_id}: {self.from_state or '-'} -> {self.to_state}"
