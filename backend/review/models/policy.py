"""What a site decides about QA: which annotators it watches, how many first results of a new
prompt version it always reviews, how readers are blinded, and when a prompt version is
flagged to its administrators. Data, changed only through ``review.actions.policy``."""
import secrets

from django.conf import settings
from django.db import models


class ReviewMode(models.TextChoices):
    """How a reviewer reads a sampled case. Either way the first reader's identity, edits and
    signature stay hidden until the verdict."""

    SHOW_MASK = "show_mask", "reviewer sees the confirmed mask"
    INDEPENDENT = "independent", "reviewer annotates independently before seeing it"


def new_seed() -> str:
    return secrets.token_hex(8)


class SitePolicy(models.Model):
    """One row per site.

    first_n_per_version: the first N confirmed results of every prompt version are sampled.
    review_mode: a ``ReviewMode``; copied onto each QA item when it is sampled.
    sampling_seed: mixed with the result id into the draw compared with the sampling rate, so
        a decision can be recomputed by anyone holding the seed (it is recorded per decision).
    alert_min_decided: a prompt version is judged only after this many decided results.
    alert_edit_rate / alert_reject_rate: at or above either rate the version is flagged.
    alert_min_mean_dice: mean Dice (AI original vs confirmed) below this flags the version.
    """

    site = models.OneToOneField("accounts.Site", on_delete=models.PROTECT, related_name="+")
    first_n_per_version = models.PositiveIntegerField(default=20)
    review_mode = models.CharField(
        max_length=12, choices=ReviewMode.choices, default=ReviewMode.SHOW_MASK
    )
    sampling_seed = models.CharField(max_length=64, default=new_seed)
    alert_min_decided = models.PositiveIntegerField(default=10)
    alert_edit_rate = models.FloatField(default=0.5)
    alert_reject_rate = models.FloatField(default=0.2)
    alert_min_mean_dice = models.FloatField(default=0.85)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"QA policy of {self.site}"


class WatchedAnnotator(models.Model):
    """An annotator whose every confirmed result the site reviews (a trainee, a new hire)."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "annotator"], name="review_watch_once"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} watched at {self.site}"
