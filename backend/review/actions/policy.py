"""Site administrators change their site's QA policy and watch list here; every change is
audited with its old and new values in the same transaction."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.roles import Role
from audit.trail import record_event

from ..models import ReviewMode, SitePolicy, WatchedAnnotator

EDITABLE = (
    "first_n_per_version", "review_mode", "sampling_seed", "alert_min_decided",
    "alert_edit_rate", "alert_reject_rate", "alert_min_mean_dice",
)
RATES = ("alert_edit_rate", "alert_reject_rate", "alert_min_mean_dice")


def policy_for(site, lock: bool = False) -> SitePolicy:
    """The site's policy, created with the defaults on first use."""
    policy, _ = SitePolicy.objects.get_or_create(site=site)
    if lock:
        policy = SitePolicy.objects.select_for_update().get(pk=policy.pk)
    return policy


def require_site_admin(actor, site) -> None:
    if not (actor is not None and actor.has_role(Role.SITE_ADMIN)):
        raise PermissionDenied("Only a site administrator can change the QA policy.")
    if actor.site_id != site.pk:
        raise PermissionDenied("You administer another site.")


def _check(changes: dict) -> None:
    problems = {}
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        problems["fields"] = f"These cannot be changed here: {', '.join(sorted(unknown))}."
    for name in RATES:
        if name in changes and not 0 <= float(changes[name]) <= 1:
            problems[name] = "Give a fraction between 0 and 1."
    if "review_mode" in changes and changes["review_mode"] not in ReviewMode.values:
        problems["review_mode"] = f"Choose one of: {', '.join(ReviewMode.values)}."
    for name in ("first_n_per_version", "alert_min_decided"):
        if name in changes and int(changes[name]) < 0:
            problems[name] = "Give a whole number, 0 or more."
    if "sampling_seed" in changes and not str(changes["sampling_seed"]).strip():
        problems["sampling_seed"] = "The seed cannot be empty."
    if problems:
        raise ValidationError(problems)


def do_update_policy(actor, site, changes: dict, reason: str = "") -> SitePolicy:
    require_site_admin(actor, site)
    _check(changes)
    with transaction.atomic():
        policy = policy_for(site, lock=True)
        old = {name: getattr(policy, name) for name in changes}
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.updated_by = actor
        policy.save()
        policy.refresh_from_db()
        new = {name: getattr(policy, name) for name in changes}
        record_event(action="qa_policy.update", actor=actor, target=policy, old=old, new=new,
                     reason=reason)
    return policy


def do_watch_annotator(actor, site, annotator, reason: str) -> WatchedAnnotator:
    require_site_admin(actor, site)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why this annotator's results are all reviewed."})
    if annotator.site_id != site.pk or not annotator.has_role(Role.ANNOTATOR):
        raise ValidationError({"annotator": "Choose an annotator of your own site."})
    with transaction.atomic():
        if WatchedAnnotator.objects.filter(site=site, annotator=annotator).exists():
            raise ValidationError({"annotator": "This annotator is already watched."})
        watch = WatchedAnnotator.objects.create(site=site, annotator=annotator,
                                                reason=reason.strip(), added_by=actor)
        record_event(action="qa_watch.add", actor=actor, target=annotator,
                     new={"watched": True, "site": site.code}, reason=watch.reason)
    return watch


def do_unwatch_annotator(actor, site, annotator, reason: str) -> None:
    require_site_admin(actor, site)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the annotator is no longer watched."})
    with transaction.atomic():
        watch = WatchedAnnotator.objects.select_for_update().filter(
            site=site, annotator=annotator).first()
        if watch is None:
            raise ValidationError({"annotator": "This annotator is not watched."})
        record_event(action="qa_watch.remove", actor=actor, target=annotator,
                     old={"watched": True, "since": watch.added_at,
                          "added_by": watch.added_by.get_printed_name(), "why": watch.reason},
                     new={"watched": False, "site": site.code}, reason=reason.strip())
        watch.delete()
