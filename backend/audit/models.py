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
