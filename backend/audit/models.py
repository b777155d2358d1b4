from datetime import UTC

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit record through the ORM. The database
    refuses the same through its triggers (see ``audit.triggers``)."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} records are append-only; update refused.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} records are append-only; delete refused.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} records are append-only; update refused.")


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or removed."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} records are append-only; update refused.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} records are append-only; delete refused.")


class AuditEntry(AppendOnlyModel):
    """One computer-generated, append-only audit record (21 CFR 11.10(e), HIPAA 164.312(b)).

    seq: position in the chain, gapless from 1.
    at: server time (UTC) of the action.
    actor_id / actor_username / actor_printed_name: who acted, copied at the time so the record
        stays readable whatever happens to the account later; empty for the system itself.
    action: what happened, ``<domain>.<verb>`` (``prompt_version.approve``, ``image.read``).
    object_type / object_id: what it happened to (``app_label.model`` and primary key).
    old_values / new_values: the changed fields before and after (empty for reads).
    reason: why, where the action asks for one (rejections, retirements, edits).
    client_address / channel: where from (IP address; web, api, worker or command).
    versions: what the result depended on (engine, weights sha256, prompt version, code).
    site: the site the entry belongs to, set when it is written (``audit.scope.site_of``): the
        object's site, else the actor's. Null for the system's own entries (and for entries
        written before sites were recorded): only the platform operator's auditor sees those.
    prev_hash / entry_hash: keyed hash chain; entry_hash covers every field above (site where
        set) and prev_hash.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_printed_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True, db_index=True)
    object_id = models.CharField(max_length=100, blank=True, db_index=True)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    client_address = models.GenericIPAddressField(null=True)
    channel = models.CharField(max_length=20, blank=True)
    versions = models.JSONField(default=dict)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row holding the last entry's hash. Writers lock it, which serialises them
    into one chain on PostgreSQL (row lock) and SQLite (immediate transactions) alike."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)


class Meaning(models.TextChoices):
    """What a signer declares by signing (21 CFR 11.50(a)(3))."""

    CONFIRMED = "confirmed", "confirmed as accurate"
    REJECTED = "rejected", "rejected"
    APPROVED = "approved", "approved"
    REVIEWED = "reviewed", "reviewed"
    ADJUDICATED = "adjudicated", "adjudicated"


class Signature(AppendOnlyModel):
    """An electronic signature (21 CFR 11.50, 11.70, 11.200), append-only like the trail.

    signer / signer_username / printed_name: who signed; the names are copied at signing time
        so the manifestation never changes when the account does.
    signed_at: server time (UTC) of signing.
    meaning: what the signature declares (``Meaning``).
    object_type / object_id: the signed record (``app_label.model`` and primary key).
    content_sha256: sha256 of the exact content signed (e.g. the mask version's bytes).
    reason: the signer's comment, where the action asks for one (a rejection's reason).
    binding: HMAC-SHA256 under a server key over every field above: a row copied onto another
        record, or edited in place, no longer matches it.
    audit_entry: the trail entry written with the signature, which carries the same binding
        inside the hash chain.
    """

    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signer_username = models.CharField(max_length=150)
    printed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(db_index=True)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    content_sha256 = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    binding = models.CharField(max_length=64)
    audit_entry = models.OneToOneField(AuditEntry, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return self.manifestation()

    def manifestation(self) -> str:
        """The human-readable form every display and export of the signed record shows."""
        when = self.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.printed_name} ({self.signer_username}), {when}: {self.get_meaning_display()}"


class ReadRecord(AppendOnlyModel):
    """One read of patient data, in the read log: unchained, append-only (issue 20).

    Every read of patient data writes one (``audit.reads.record_read``); the chained trail
    holds an ``imaging.read`` entry for each read too, except per-image reads of a series
    (a viewer's frames) by a user who already opened that series in the current window: those
    are in this log only, covered by the window's chained ``series opened`` entry.

    at: server time (UTC). actor_id / actor_username: who read (empty for the system).
    site: whose data it is, by the trail's rules (``audit.scope.site_of``); what a site's
        auditor may see. client_address / channel: where from, as the trail resolves them.
    object_type / object_id: what was read (an instance, a series, a result...).
    series_id / patient_id: the series and patient (primary keys) it concerns, where known.
    what / count: which data (``frames``, ``metadata``...) and how many rows, for searches.
    chained: the trail has an entry for this very read (its ``new_values.read_record`` is
        this row's id): every read but a per-image read inside an opened window.
    window / opens: for per-image reads, the number of the window (``AUDIT_READ_WINDOW_SECONDS``
        periods since the epoch); ``opens`` marks the read that opened the series for its
        user in that window and has the chained entry. At most one per user, series and window
        (a unique index), so two simultaneous first frames do not both write one.
    """

    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150, blank=True)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    client_address = models.GenericIPAddressField(null=True)
    channel = models.CharField(max_length=20, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    series_id = models.BigIntegerField(null=True)
    patient_id = models.BigIntegerField(null=True)
    what = models.CharField(max_length=100)
    count = models.IntegerField(null=True)
    chained = models.BooleanField(default=False)
    window = models.BigIntegerField(null=True)
    opens = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["actor_id", "at"], name="audit_read_actor_at"),
            models.Index(fields=["series_id", "at"], name="audit_read_series_at"),
            models.Index(fields=["patient_id", "at"], name="audit_read_patient_at"),
            models.Index(fields=["site", "at"], name="audit_read_site_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["actor_id", "series_id", "window"],
                                    condition=models.Q(opens=True),
                                    name="audit_read_one_opening_per_window"),
        ]

    def __str__(self) -> str:
        return f"read {self.what} {self.object_type}:{self.object_id} by {self.actor_username}"
