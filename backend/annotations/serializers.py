from rest_framework import serializers

from audit.serializers import SignatureSerializer
from imaging.models import Series
from prompts.models import PromptVersion

from .models import Job, JobTransition, MaskVersion, Result, ResultTransition


class JobCreateSerializer(serializers.Serializer):
    series = serializers.PrimaryKeyRelatedField(queryset=Series.objects.all())
    prompt_version = serializers.PrimaryKeyRelatedField(queryset=PromptVersion.objects.all())
    geometry = serializers.JSONField(
        help_text='{"prompts": [{"slice": k, "box": [x0, y0, x1, y1]}]} in pixels (column, row); '
        'where the protocol asks for the extent (interaction.extent: required), also '
        '"extent": {"first": k, "last": m}, the structure\'s first and last slice (inclusive, '
        'every prompt between them)'
    )


class JobTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_printed_name", default="", read_only=True)

    class Meta:
        model = JobTransition
        fields = ["from_status", "to_status", "at", "actor", "worker", "reason"]


class JobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    created_by = serializers.CharField(source="created_by.get_printed_name", read_only=True)
    study = serializers.IntegerField(source="series.study_id", read_only=True)
    result = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    mask_version = serializers.SerializerMethodField(
        help_text="A correction job: the mask version it stored (null before it succeeds, or "
        "when the correction left the draft unchanged).")

    class Meta:
        model = Job
        fields = [
            "id", "series", "study", "prompt_version", "structure_key", "engine", "queue",
            "geometry", "status", "progress", "created_by", "created_at", "started_at",
            "finished_at", "worker", "attempts", "max_attempts", "cancel_requested", "error",
            "result", "corrects", "base_version", "mask_version",
        ]
        read_only_fields = fields

    def get_result(self, job) -> int | None:
        """The result the job made, or for a correction the result it corrects."""
        if job.status != "succeeded":
            return None
        if job.corrects_id:
            return job.corrects_id
        result = getattr(job, "result", None)
        return result.pk if result else None

    def get_mask_version(self, job) -> int | None:
        if not job.corrects_id or job.status != "succeeded":
            return None
        version = job.mask_versions.first()
        return version.number if version else None

    def get_progress(self, job) -> dict:
        total = job.progress_total or 0
        return {
            "done": job.progress_done,
            "total": total,
            "fraction": round(job.progress_done / total, 3) if total else 0.0,
        }


class JobDetailSerializer(JobSerializer):
    transitions = JobTransitionSerializer(many=True, read_only=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "transitions"]
        read_only_fields = fields


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class MaskVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.get_printed_name", default=None, read_only=True, allow_null=True
    )
    job = serializers.UUIDField(source="job.public_id", default=None, read_only=True,
                                allow_null=True,
                                help_text="The correction job that made this version.")

    class Meta:
        model = MaskVersion
        fields = [
            "number", "sha256", "shape", "voxel_count", "volume_ml", "created_by", "created_at",
            "note", "job", "provenance",
        ]


class ResultTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_printed_name", default=None, read_only=True)

    class Meta:
        model = ResultTransition
        fields = ["from_state", "to_state", "at", "actor", "mask_version", "reason"]


class ResultSerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job.public_id", read_only=True)
    mask_versions = MaskVersionSerializer(many=True, read_only=True)
    prompt = serializers.SerializerMethodField()
    signature = SignatureSerializer(read_only=True, allow_null=True)
    final_version = serializers.IntegerField(source="final_version.number", default=None,
                                             read_only=True, allow_null=True)
    transitions = ResultTransitionSerializer(many=True, read_only=True)
    owner = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()
    stale_reason = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = [
            "id", "job", "series", "structure_key", "prompt_version", "prompt", "state",
            "provenance", "slice_scores", "agreement", "agreement_pending", "flags", "created_at",
            "mask_versions", "final_version", "signature", "transitions", "owner", "stale",
            "stale_reason", "superseded_by",
        ]
        read_only_fields = fields

    def get_owner(self, result) -> dict | None:
        """Who may edit, confirm or reject the draft."""
        owner = result.owner
        return None if owner is None else {"id": owner.pk, "name": owner.get_printed_name()}

    def _stale_reason(self, result) -> str:
        from .staleness import stale_reason

        cache = self.context.setdefault("_stale", {})
        if result.pk not in cache:
            cache[result.pk] = stale_reason(result, self.context.setdefault("_digests", {}))
        return cache[result.pk]

    def get_stale(self, result) -> bool:
        """Whether the series changed after the result was made on it (it cannot be edited
        or confirmed then; only rejected)."""
        return bool(self._stale_reason(result))

    def get_stale_reason(self, result) -> str:
        return self._stale_reason(result)

    def get_prompt(self, result) -> dict:
        content = result.prompt_version.content
        return {
            "name": content.get("name"),
            "colour": content.get("display", {}).get("colour"),
            "opacity": content.get("display", {}).get("opacity"),
            "number": result.prompt_version.number,
        }


class EditSerializer(serializers.Serializer):
    base_version = serializers.IntegerField(
        min_value=1, help_text="The version the edit started from; it must be the latest."
    )
    data = serializers.CharField(
        help_text="The whole edited mask, bit-packed and zlib-compressed as the mask download, "
        "base64-encoded."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate_data(self, value) -> bytes:
        import base64
        import binascii

        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("The mask data is not valid base64.") from None


class CorrectionSerializer(serializers.Serializer):
    base_version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1,
        help_text="The version being corrected; it must be the latest.")
    slice = serializers.IntegerField(min_value=0, max_value=2**31 - 1,
                                     help_text="The slice index the prompt is on.")
    box = serializers.ListField(
        child=serializers.FloatField(min_value=-1e6, max_value=1e6), min_length=4,
        max_length=4, required=False,
        help_text="[x0, y0, x1, y1] in pixels (column, row) of the slice.")
    boxes = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(min_value=-1e6, max_value=1e6),
                                    min_length=4, max_length=4),
        required=False, min_length=1, max_length=3,
        help_text="Instead of box: one box per part of the structure on the slice (as the "
        "protocol's boxes_per_part asks), without points.")
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(min_value=-1e6, max_value=1e6),
                                    min_length=3, max_length=3),
        required=False, max_length=32,
        help_text="[[x, y, label], ...] with the box: label 1 inside, 0 outside.")

    def validate(self, values):
        if ("box" in values) == ("boxes" in values):
            raise serializers.ValidationError({"box": "Give either box or boxes."})
        values["boxes"] = values.pop("boxes", None) or [values.pop("box")]
        return values


class DecisionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The mask version shown and signed.")
    password = serializers.CharField(
        trim_whitespace=False, style={"input_type": "password"},
        help_text="Your password again: signing is an electronic signature.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    supersedes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="Confirmations only: the id of the confirmed result of the same series and "
        "structure that this one replaces (required when there is one; give a reason).",
    )


class ReassignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                     help_text="The id of the annotator who takes the draft.")
    reason = serializers.CharField(max_length=2000, help_text="Why the draft changes hands.")


class PrefetchSerializer(serializers.Serializer):
    series = serializers.PrimaryKeyRelatedField(queryset=Series.objects.all())
    prompt_version = serializers.PrimaryKeyRelatedField(queryset=PromptVersion.objects.all())
    slices = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=100_000), min_length=1,
        max_length=5, help_text="The slice shown and its neighbours (at most 5).")


class PrefetchResponseSerializer(serializers.Serializer):
    slices = serializers.ListField(child=serializers.IntegerField())
    engine = serializers.CharField()
    sent = serializers.BooleanField(help_text="False when the same request is still fresh.")
