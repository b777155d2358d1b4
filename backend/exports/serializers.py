from rest_framework import serializers

from .models import ExportRecord, ReferenceMask
from .seg import SegType


class SegRequestSerializer(serializers.Serializer):
    results = serializers.ListField(
        # Ids are 64-bit: a larger number would overflow the database query (a 500).
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1,
        max_length=64,
        help_text="Confirmed results of one series; each becomes one segment.",
    )
    type = serializers.ChoiceField(
        choices=[t.value for t in SegType], default=SegType.BINARY.value,
        help_text="BINARY (every viewer) or LABELMAP (viewers that read label-map SEG).",
    )


class ExportRecordSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.get_printed_name", read_only=True)
    results = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ExportRecord
        fields = ["id", "format", "destination", "results", "series", "masks",
                  "sop_instance_uid", "series_instance_uid", "sha256", "size", "pacs_url",
                  "created_by", "created_at"]
        read_only_fields = fields


class ReferenceMaskSerializer(serializers.ModelSerializer):
    imported_by = serializers.CharField(source="imported_by.get_printed_name", read_only=True)

    class Meta:
        model = ReferenceMask
        fields = ["id", "series", "structure_key", "label", "codes", "shape", "sha256",
                  "voxel_count", "source", "seg_sop_instance_uid", "seg_sha256",
                  "segment_number", "imported_by", "imported_at"]
        read_only_fields = fields


class ReferenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A DICOM SEG drawn on a series of this site.")
    structures = serializers.JSONField(
        required=False, help_text='Entry keys for segments the codes do not decide: {"1": key}'
    )
    replace = serializers.BooleanField(default=False)

    def validate_structures(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Give an object of segment number to entry key.")
        try:
            return {int(number): str(key) for number, key in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError("Segment numbers must be integers.") from None


class ReferencePacsSerializer(serializers.Serializer):
    study_uid = serializers.CharField(max_length=64)
    series_uid = serializers.CharField(max_length=64)
    sop_uid = serializers.CharField(max_length=64)
    structures = serializers.JSONField(required=False)
    replace = serializers.BooleanField(default=False)

    validate_structures = ReferenceUploadSerializer.validate_structures
