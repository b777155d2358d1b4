"""What clinicians changed: the AI original against the confirmed mask per result (a cache of
values derived from immutable mask versions), and alerts on prompt versions whose results are
heavily edited or often rejected."""
from django.conf import settings
from django.db import models
from django.db.models import Q


class MaskChange(models.Model):
    """Dice and volumes of a confirmed result's AI original (version 1) and confirmed mask.
    Derived from immutable versions, so computing it again gives the same row."""

    result = models.OneToOneField(
        "annotations.Result", on_delete=models.CASCADE, related_name="qa_mask_change"
    )
    final_version = models.PositiveIntegerField()
    dice = models.FloatField()
    ai_volume_ml = models.FloatField()
    final_volume_ml = models.FloatField()
    computed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Result {self.result_id}: Dice {self.dice:.3f}"


class PromptVersionAlert(models.Model):
    """A prompt version flagged to its administrators.

    reasons: ``[{"code": "edit_rate" | "reject_rate" | "mean_dice", "message": ...}]``.
    figures: the version's metrics when it was flagged (``review.metrics.GroupMetrics``).
    acknowledged_*: the prompt administrator who took note, and what they will do.
    """

    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.PROTECT, related_name="qa_alerts"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    reasons = models.JSONField()
    figures = models.JSONField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt_version"], condition=Q(acknowledged_at__isnull=True),
                name="review_one_open_alert_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert on {self.prompt_version}"
