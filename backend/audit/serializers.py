from rest_framework import serializers

from .models import AuditEntry, ReadRecord, Signature
from .signatures import signature_intact


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "seq", "at", "actor_id", "actor_username", "actor_printed_name", "action",
            "object_type", "object_id", "old_values", "new_values", "reason",
            "client_address", "channel", "versions", "prev_hash", "entry_hash", "site",
        ]
        read_only_fields = fields


class ReadRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReadRecord
        fields = [
            "id", "at", "actor_id", "actor_username", "object_type", "object_id", "series_id",
            "patient_id", "what", "count", "chained", "window", "opens", "client_address",
            "channel", "site",
        ]
        read_only_fields = fields


class SignatureSerializer(serializers.ModelSerializer):
    """A signature as every API response showing a signed record embeds it (21 CFR 11.50):
    printed name, date and time (UTC), meaning, and the content hash it is bound to.
    ``intact`` says the row is as written; check the content with ``verify_signature``."""

    meaning_display = serializers.CharField(source="get_meaning_display", read_only=True)
    manifestation = serializers.CharField(read_only=True)
    intact = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id", "signer_id", "signer_username", "printed_name", "signed_at", "meaning",
            "meaning_display", "object_type", "object_id", "content_sha256", "reason",
            "manifestation", "intact",
        ]
        read_only_fields = fields

    def get_intact(self, sig) -> bool:
        return bool(signature_intact(sig))
