from django.db import models


class AuditEntry(models.Model):
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
    prev_hash / entry_hash: sha256 chain; entry_hash covers every field above and prev_hash.
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
