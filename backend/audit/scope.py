"""Which site an audit entry belongs to, and which entries an auditor may read (issue 20).

An entry's site is set when it is written, and is part of its hashed content:
  1. the site named by the caller (``record_event(site=...)``);
  2. else the site of the object acted on: a ``Site`` itself, an object with a ``site``, or
     one reached through its foreign keys (a result through its series, study and patient);
  3. else, for an event on a user account named by its user name (a failed sign-in), the
     site of that account where one exists;
  4. else the actor's site.
What is left has no site: the system's own entries (start-up, commands, sign-in attempts
for user names nobody holds) and the entries written before sites were recorded (the trail
is append-only, so they cannot be given one later).

An auditor of a site reads the entries of that site only: the trail, one entry, an
object's history and its signatures, the CSV export and the chain check's findings; and the
read log's records of that site only (a record's site follows the same rules). The
platform operator's auditor -- an account holding the auditor role and belonging to no site
-- reads every entry, those without a site included. Nobody else reads entries without a
site. The chain stays one chain for the installation; a site's auditor learns of a break
outside their site that it exists, not what it is.
"""
from django.db import models
from django.db.models import QuerySet

from .models import AuditEntry, ReadRecord, Signature

_DEPTH = 4


def is_platform_auditor(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "site_id", None) is None)


def visible_entries(user, entries: QuerySet[AuditEntry] | None = None) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all() if entries is None else entries
    if is_platform_auditor(user):
        return entries
    if user is None or getattr(user, "site_id", None) is None:
        return entries.none()
    return entries.filter(site_id=user.site_id)


def visible_reads(user, reads: QuerySet[ReadRecord] | None = None) -> QuerySet[ReadRecord]:
    """The read log as ``user`` may see it: by the entries' rules, on the records' own site."""
    reads = ReadRecord.objects.all() if reads is None else reads
    if is_platform_auditor(user):
        return reads
    if user is None or getattr(user, "site_id", None) is None:
        return reads.none()
    return reads.filter(site_id=user.site_id)


def visible_signatures(user, signatures: QuerySet[Signature]) -> QuerySet[Signature]:
    if is_platform_auditor(user):
        return signatures
    if user is None or getattr(user, "site_id", None) is None:
        return signatures.none()
    return signatures.filter(audit_entry__site_id=user.site_id)


def entry_visible(user, entry: AuditEntry) -> bool:
    return is_platform_auditor(user) or (
        entry.site_id is not None and entry.site_id == getattr(user, "site_id", None))


def _site_of_object(target: models.Model, depth: int = 0) -> int | None:
    from accounts.models import Site

    if isinstance(target, Site):
        return target.pk
    names = {f.attname for f in target._meta.concrete_fields}
    if "site_id" in names and target.site_id is not None:
        return target.site_id
    if depth >= _DEPTH:
        return None
    relations = [f for f in target._meta.concrete_fields
                 if f.is_relation and (f.many_to_one or f.one_to_one)
                 and f.related_model is not AuditEntry]
    # Objects before people: a record's site is where its data lives, not where its
    # author works (they agree today; the data wins if they ever do not).
    relations.sort(key=lambda f: f.related_model._meta.label_lower == "accounts.user")
    for field in relations:
        if getattr(target, field.attname, None) is None:
            continue
        try:
            related = getattr(target, field.name)
        except models.ObjectDoesNotExist:
            continue
        found = _site_of_object(related, depth + 1)
        if found is not None:
            return found
    return None


def _site_of_named_user(object_id: str) -> int | None:
    from accounts.models import User

    user = User.objects.filter(username=object_id).only("site_id").first()
    return user.site_id if user else None


def site_of(*, site=None, target: models.Model | None = None, object_type: str = "",
            object_id: str = "", actor=None) -> int | None:
    """The id of the site an entry about ``target`` (or ``object_type``/``object_id``) by
    ``actor`` belongs to, or None for a system entry (see the module's docstring)."""
    if site is not None:
        return site.pk if isinstance(site, models.Model) else int(site)
    if target is not None and target.pk is not None:
        found = _site_of_object(target)
        if found is not None:
            return found
    if target is None and object_type == "accounts.user" and object_id:
        found = _site_of_named_user(str(object_id))
        if found is not None:
            return found
    if actor is not None and getattr(actor, "is_authenticated", False):
        return getattr(actor, "site_id", None)
    return None
