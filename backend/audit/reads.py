"""Recording reads of patient data (issue 20): every read in the read log, the reads an
auditor needs in the chained trail.

Every read writes one ``ReadRecord`` (unchained, append-only: no lock but the insert's).
Every read also writes a chained ``imaging.read`` entry, except the per-image reads of a
series (``PER_IMAGE``: the viewer's frames and whole files), which write one chained entry
when a user opens the series -- the first such read of that series by that user in a window
of ``AUDIT_READ_WINDOW_SECONDS`` (default 900 s; windows are fixed periods of the clock, so a
series scrolled across a window's end gets a second entry) -- and are otherwise in the read
log only. A 300-slice series opened by one user writes one chained entry and 300 read records.

Concurrency: the read that opens a window inserts its record with ``opens`` set, which a
unique index allows once per user, series and window, in the same transaction as its chained
entry. A second first frame arriving meanwhile does not take the chain lock: its insert waits
for the first transaction on that index entry only (PostgreSQL), then finds the window opened
and writes its record alone. If the first rolls back, the second's insert succeeds and it
writes the chained entry itself: no read is left without the chained entry of its window,
and no window gets two. (On SQLite writers are serialised anyway.)
"""
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from . import context
from .models import ReadRecord
from .scope import site_of
from .trail import canonical_address, object_ref, record_event

ACTION = "imaging.read"
# Reads of one image of a series, repeated for every image a viewer shows: recorded in the
# trail once per series opened per window, every one of them in the read log.
PER_IMAGE = frozenset({"frames", "file"})
DEFAULT_WINDOW_SECONDS = 900


def window_seconds() -> int:
    return max(1, int(getattr(settings, "AUDIT_READ_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS)))


def _now():
    return timezone.now()


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def concerns(target: models.Model | None) -> tuple[int | None, int | None, int | None]:
    """(series id, patient id, site id) of what ``target`` is about, where it says."""
    if target is None:
        return None, None, None
    from imaging.models import Patient, Series, Study

    label = target._meta.label_lower
    series_id = patient_id = None
    if label == "imaging.study":
        patient_id = target.patient_id
    elif label == "imaging.patient":
        patient_id = target.pk
    else:
        series_id = _series_of(target)
    if series_id is not None:
        row = (Series.objects.filter(pk=series_id)
               .values_list("study__patient_id", "study__patient__site_id").first())
        return (series_id, *row) if row else (series_id, None, None)
    if patient_id is not None:
        if label == "imaging.study":
            site = Study.objects.filter(pk=target.pk).values_list("patient__site_id",
                                                                  flat=True).first()
        else:
            site = Patient.objects.filter(pk=patient_id).values_list("site_id",
                                                                     flat=True).first()
        return None, patient_id, site
    return None, None, None


def _series_of(target: models.Model, depth: int = 0) -> int | None:
    """The series a series, an instance, a result or job, or a mask version (through its
    result) belongs to; None for anything else."""
    if target._meta.label_lower == "imaging.series":
        return target.pk
    if isinstance(getattr(target, "series_id", None), int):
        return target.series_id
    if depth >= 1:
        return None
    for field in target._meta.concrete_fields:
        if (field.many_to_one and field.related_model._meta.app_label == "annotations"
                and getattr(target, field.attname, None) is not None):
            found = _series_of(getattr(target, field.name), depth + 1)
            if found is not None:
                return found
    return None


def record_read(target: models.Model | None, what: str, *, actor=None, count: int | None = None,
                object_type: str = "", action: str = ACTION,
                details: dict | None = None) -> ReadRecord:
    """Record one read of patient data (``what`` says which: ``frames``, ``metadata``,
    ``mask``...) of ``target`` (None for a search: ``object_type`` names it) by ``actor``
    (default: the request's user); return its read record. A chained read's entry is
    ``action`` (``imaging.read``; ``mask.read`` for a mask) with ``details`` in its new
    values."""
    ctx = context.current()
    if actor is None and _authenticated(ctx.current_actor()):
        actor = ctx.current_actor()
    authenticated = _authenticated(actor)
    if target is not None:
        object_type, object_id = object_ref(target)
    else:
        object_id = ""
    series_id, patient_id, site_id = concerns(target)
    if site_id is None:
        site_id = site_of(target=target, object_type=object_type, object_id=object_id,
                          actor=actor if authenticated else None)
    now = _now()
    fields = {
        "at": now,
        "actor_id": actor.pk if authenticated else None,
        "actor_username": actor.get_username() if authenticated else "",
        "site_id": site_id,
        "client_address": canonical_address(ctx.client_address),
        "channel": ctx.channel,
        "object_type": object_type,
        "object_id": object_id[:100],
        "series_id": series_id,
        "patient_id": patient_id,
        "what": what[:100],
        "count": count,
    }
    details = {"what": what, **(details or {})}
    if count is not None:
        details["count"] = count
    if what in PER_IMAGE and series_id is not None and authenticated and action == ACTION:
        return _per_image_read(fields, details, target, actor, now)
    with transaction.atomic():
        record = ReadRecord.objects.create(chained=True, **fields)
        record_event(action=action, actor=actor, target=target, object_type=object_type,
                     object_id=object_id, site=site_id, new={**details, "read_record": record.pk})
    return record


def _opened_key(fields: dict, window: int) -> str:
    return f"audit.read.opened:{fields['actor_id']}:{fields['series_id']}:{window}"


def _per_image_read(fields: dict, details: dict, target, actor, now) -> ReadRecord:
    seconds = window_seconds()
    window = int(now.timestamp()) // seconds
    key = _opened_key(fields, window)
    # The common path: the series is open for this user, no lock. The cache only remembers
    # openings that committed (records are never removed), so a hit is always true.
    if cache.get(key) or ReadRecord.objects.filter(
            actor_id=fields["actor_id"], series_id=fields["series_id"], window=window,
            opens=True).exists():
        cache.set(key, True, seconds)
        return ReadRecord.objects.create(window=window, **fields)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ReadRecord.objects.create(window=window, opens=True, chained=True,
                                                   **fields)
        except IntegrityError:  # another read opened this window meanwhile, and committed
            cache.set(key, True, seconds)
            return ReadRecord.objects.create(window=window, **fields)
        transaction.on_commit(lambda: cache.set(key, True, seconds))
        until = datetime.fromtimestamp((window + 1) * seconds, tz=UTC)
        record_event(
            action=ACTION, actor=actor, object_type="imaging.series",
            object_id=str(fields["series_id"]), site=fields["site_id"],
            new={**details, "series_opened": True, "first_read": ":".join(object_ref(target)),
                 "window_seconds": seconds,
                 "window_until": until.isoformat(),
                 "read_record": record.pk})
    return record
