"""Flagging a prompt version whose results are heavily edited or often rejected to the
prompt administrators, and their acknowledgement."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.trail import record_event
from prompts.models import PromptVersion

from .. import metrics
from ..models import PromptVersionAlert, SitePolicy
from .policy import policy_for


def alert_reasons(figures: metrics.GroupMetrics, policy: SitePolicy) -> list[dict]:
    if figures.decided < max(policy.alert_min_decided, 1):
        return []
    reasons = []
    if figures.edit_rate is not None and figures.edit_rate >= policy.alert_edit_rate:
        reasons.append({"code": "edit_rate", "message": (
            f"{figures.edited} of {figures.decided} results were edited before confirmation "
            f"({figures.edit_rate:.0%}; the site flags {policy.alert_edit_rate:.0%} or more).")})
    if figures.dice_mean is not None and figures.dice_mean < policy.alert_min_mean_dice:
        reasons.append({"code": "mean_dice", "message": (
            f"Mean Dice between the AI original and the confirmed mask is "
            f"{figures.dice_mean:.3f} (the site flags below {policy.alert_min_mean_dice:.3f}).")})
    if figures.reject_rate is not None and figures.reject_rate >= policy.alert_reject_rate:
        reasons.append({"code": "reject_rate", "message": (
            f"{figures.rejected} of {figures.decided} results were rejected "
            f"({figures.reject_rate:.0%}; the site flags {policy.alert_reject_rate:.0%} or "
            "more).")})
    return reasons


def do_evaluate_prompt_version(version: PromptVersion) -> PromptVersionAlert | None:
    """Raise an alert when the version's figures cross the site's limits and none is open.
    After an acknowledgement, a new alert needs ``alert_min_decided`` further decisions."""
    site = version.entry.site
    policy = policy_for(site)
    figures = metrics.overall(metrics.Scope(site_id=site.pk, prompt_version_id=version.pk))
    reasons = alert_reasons(figures, policy)
    if not reasons:
        return None
    with transaction.atomic():
        PromptVersion.objects.select_for_update().get(pk=version.pk)
        alerts = PromptVersionAlert.objects.filter(prompt_version=version)
        if alerts.filter(acknowledged_at__isnull=True).exists():
            return None
        last = alerts.first()
        if last is not None and figures.decided < (
                last.figures.get("decided", 0) + max(policy.alert_min_decided, 1)):
            return None
        alert = PromptVersionAlert.objects.create(
            prompt_version=version, site=site, raised_at=timezone.now(), reasons=reasons,
            figures=figures.as_dict())
        record_event(action="prompt_version.qa_alert", target=version,
                     new={"alert": alert.pk, "reasons": [r["code"] for r in reasons],
                          "decided": figures.decided, "edit_rate": figures.edit_rate,
                          "reject_rate": figures.reject_rate, "dice_mean": figures.dice_mean},
                     versions={"prompt_version": version.label,
                               "content_sha256": version.content_sha256})
    return alert


def do_acknowledge_alert(actor, alert: PromptVersionAlert, note: str) -> PromptVersionAlert:
    if not (actor is not None and actor.has_role(Role.PROMPT_ADMIN)):
        raise PermissionDenied("Only a prompt-library administrator acknowledges alerts.")
    if actor.site_id != alert.site_id:
        raise PermissionDenied("This alert concerns another site's library.")
    if not (note or "").strip():
        raise ValidationError({"note": "Say what will be done about this prompt version."})
    with transaction.atomic():
        alert = PromptVersionAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            raise ValidationError({"alert": "This alert is already acknowledged."})
        alert.acknowledged_by, alert.acknowledged_at = actor, timezone.now()
        alert.acknowledgement = note.strip()
        alert.save()
        record_event(action="prompt_version.qa_alert_acknowledge", actor=actor,
                     target=alert.prompt_version, old={"alert": alert.pk, "open": True},
                     new={"alert": alert.pk, "open": False}, reason=alert.acknowledgement)
    return alert
