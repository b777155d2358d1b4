from rest_framework import serializers

from .models import PromptEntry, PromptTransition, PromptVersion, RobustnessRun


class TransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptTransition
        fields = ["from_state", "to_state", "actor_name", "at", "reason"]


class RobustnessSerializer(serializers.ModelSerializer):
    class Meta:
        model = RobustnessRun
        fields = ["computed_at", "engine", "weights_sha256", "tolerance", "cases", "runs",
                  "dice_mean", "dice_p5", "dice_min", "truth_dice_mean", "seed"]


class VersionSummarySerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="entry.key")
    approved_by = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()

    class Meta:
        model = PromptVersion
        fields = ["id", "key", "number", "state", "origin", "content_sha256", "author",
                  "created_at", "approved_by", "approved_at", "retired_at"]

    def get_author(self, version) -> str:
        if version.author:
            return version.author.get_printed_name()
        return version.content["provenance"]["author"]

    def get_approved_by(self, version) -> str | None:
        if version.approved_by:
            return version.approved_by.get_printed_name()
        if version.origin == "file" and version.state in ("approved", "retired"):
            return version.content["provenance"]["approver"]
        return None


class VersionSerializer(VersionSummarySerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    robustness = RobustnessSerializer(many=True, read_only=True)
    signature = serializers.SerializerMethodField()
    based_on = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(VersionSummarySerializer.Meta):
        fields = [*VersionSummarySerializer.Meta.fields, "content", "based_on", "signature",
                  "import_record", "transitions", "robustness"]

    def get_signature(self, version) -> str | None:
        sig = version.approval_signature
        return sig.manifestation() if sig else None


class EntrySerializer(serializers.ModelSerializer):
    active_version = serializers.SerializerMethodField()
    open_version = serializers.SerializerMethodField()

    class Meta:
        model = PromptEntry
        fields = ["key", "name", "modality", "active_version", "open_version"]

    def _by_state(self, entry, states):
        for version in entry.versions.all():
            if version.state in states:
                return VersionSummarySerializer(version).data
        return None

    def get_active_version(self, entry) -> dict | None:
        return self._by_state(entry, {"approved"})

    def get_open_version(self, entry) -> dict | None:
        return self._by_state(entry, {"draft", "in_review"})


class ContentSerializer(serializers.Serializer):
    content = serializers.JSONField(required=False)
    yaml = serializers.CharField(required=False, help_text="the entry as YAML text")

    def validate(self, attrs):
        if ("content" in attrs) == ("yaml" in attrs):
            raise serializers.ValidationError("Send the entry as either content or yaml.")
        return attrs


class ApproveSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="your password again: approving is signing")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ResolvedSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField()
    matched = serializers.CharField()
    version_id = serializers.IntegerField()
    instructions = serializers.CharField()
    interaction = serializers.JSONField()
