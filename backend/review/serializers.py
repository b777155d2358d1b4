"""QA API shapes. A QA item is shown through ``blinding.disclosure``: while the second reading
is open, the first reading's fields come back as null and ``blinded`` is true."""
import base64
import binascii

from rest_framework import serializers

from audit.serializers import SignatureSerializer
from core.params import id_field

from .blinding import disclosure
from .metrics import DIMENSIONS, PERIODS
from .models import (
    Adjudication,
    AuditReport,
    PromptVersionAlert,
    QAItem,
    QATransition,
    SitePolicy,
    Verdict,
    WatchedAnnotator,
)


def _name(user) -> str | None:
    return user.get_printed_name() if user is not None else None


class QATransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_printed_name", default=None, read_only=True)

    class Meta:
        model = QATransition
        fields = ["from_state", "to_state", "at", "actor", "reason"]
        read_only_fields = fields


FIRST_READING = ("confirmed_by", "confirmed_at", "decision_signature", "edited", "mask_version",
                 "ai_volume_ml", "confirmed_volume_ml", "flags", "reasons", "transitions")


class QAItemSerializer(serializers.ModelSerializer):
    """``blinded``: part of the first reading is withheld. ``confirmed_mask_visible``: the
    confirmed mask may be downloaded (``mask``). The first reading's fields (``confirmed_by``,
    ``decision_signature``, ``edited``, ``flags``, ``reasons``, ``transitions``...) are null
    while it is withheld."""

    result = serializers.IntegerField(source="result_id", read_only=True)
    series = serializers.IntegerField(source="result.series_id", read_only=True)
    series_instance_uid = serializers.CharField(source="result.series.series_instance_uid",
                                                read_only=True)
    study_instance_uid = serializers.CharField(
        source="result.series.study.study_instance_uid", read_only=True)
    modality = serializers.CharField(source="result.series.modality", read_only=True)
    structure_key = serializers.CharField(source="result.structure_key", read_only=True)
    prompt_version = serializers.CharField(source="result.prompt_version.label", read_only=True)
    mask_shape = serializers.JSONField(source="result.final_version.shape", read_only=True)
    reviewer = serializers.SerializerMethodField()
    adjudicator = serializers.SerializerMethodField()
    blinded = serializers.SerializerMethodField()
    confirmed_mask_visible = serializers.SerializerMethodField()
    reader_mask_stored = serializers.SerializerMethodField()
    confirmed_by = serializers.CharField(source="result.decided_by.get_printed_name",
                                         read_only=True, allow_null=True)
    confirmed_at = serializers.DateTimeField(source="result.decided_at", read_only=True,
                                             allow_null=True)
    decision_signature = SignatureSerializer(source="result.signature", read_only=True,
                                             allow_null=True)
    edited = serializers.BooleanField(source="result.edited", read_only=True, allow_null=True)
    mask_version = serializers.IntegerField(source="result.final_version.number", read_only=True,
                                            allow_null=True)
    ai_volume_ml = serializers.SerializerMethodField()
    confirmed_volume_ml = serializers.FloatField(source="result.final_version.volume_ml",
                                                 read_only=True, allow_null=True)
    flags = serializers.JSONField(source="result.flags", read_only=True, allow_null=True)
    transitions = QATransitionSerializer(many=True, read_only=True, allow_null=True)
    verdict = serializers.ChoiceField(choices=[("", "not yet"), *Verdict.choices],
                                      read_only=True)
    review_signature = SignatureSerializer(read_only=True, allow_null=True)
    adjudication_signature = SignatureSerializer(read_only=True, allow_null=True)
    mode = serializers.CharField(read_only=True, help_text="show_mask or independent")
    adjudication = serializers.CharField(read_only=True, help_text="upheld, overturned or empty")

    class Meta:
        model = QAItem
        fields = [
            "id", "state", "mode", "created_at", "result", "series", "series_instance_uid",
            "study_instance_uid", "modality", "structure_key", "prompt_version", "mask_shape",
            "blinded", "confirmed_mask_visible", "reviewer", "review_started_at",
            "reader_mask_stored", "reader_dice", "verdict", "verdict_reason", "reviewed_at",
            "review_signature", "adjudicator", "adjudication", "adjudication_reason",
            "adjudicated_at", "adjudication_signature", *FIRST_READING,
        ]
        read_only_fields = fields

    def _disclosure(self, item):
        return disclosure(item, self.context["request"].user)

    def get_reviewer(self, item) -> str | None:
        return _name(item.reviewer)

    def get_adjudicator(self, item) -> str | None:
        return _name(item.adjudicator)

    def get_blinded(self, item) -> bool:
        return self._disclosure(item).blinded

    def get_confirmed_mask_visible(self, item) -> bool:
        return self._disclosure(item).confirmed_mask

    def get_reader_mask_stored(self, item) -> bool:
        return bool(item.reader_mask_sha256)

    def get_ai_volume_ml(self, item) -> float | None:
        return item.result.mask_versions.get(number=1).volume_ml

    def to_representation(self, item):
        data = super().to_representation(item)
        shown = self._disclosure(item)
        if not shown.first_reading:
            data.update(dict.fromkeys(FIRST_READING))
        if not shown.confirmed_mask:
            data["reader_dice"] = None
        return data


class QAReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReaderMaskSerializer(serializers.Serializer):
    data = serializers.CharField(
        help_text="The reviewer's whole mask, bit-packed and zlib-compressed like the mask "
        "download, base64-encoded; its shape is the item's mask_shape.")

    def validate_data(self, value) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("The mask data is not valid base64.") from None


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, style={"input_type": "password"},
                         help_text="Your password again: this is an electronic signature.",
                         **kwargs)


class VerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Required when you disagree.")
    password = PasswordField()


class AdjudicationSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Adjudication.choices)
    reason = serializers.CharField(max_length=2000)
    password = PasswordField()


class MetricsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=DIMENSIONS, default="prompt_version")
    period = serializers.ChoiceField(choices=PERIODS, default="month")
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    structure = serializers.CharField(required=False, allow_blank=True)
    prompt_version = id_field(required=False)
    annotator = id_field(required=False)
    engine = serializers.CharField(required=False, allow_blank=True)


class AlertSerializer(serializers.ModelSerializer):
    prompt_version_label = serializers.CharField(source="prompt_version.label", read_only=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.get_printed_name",
                                            default=None, read_only=True, allow_null=True)

    class Meta:
        model = PromptVersionAlert
        fields = ["id", "prompt_version", "prompt_version_label", "raised_at", "reasons",
                  "figures", "acknowledged_by", "acknowledged_at", "acknowledgement"]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class PolicySerializer(serializers.ModelSerializer):
    updated_by = serializers.CharField(source="updated_by.get_printed_name", default=None,
                                       read_only=True, allow_null=True)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = SitePolicy
        fields = ["first_n_per_version", "review_mode", "sampling_seed", "alert_min_decided",
                  "alert_edit_rate", "alert_reject_rate", "alert_min_mean_dice", "updated_at",
                  "updated_by", "reason"]
        read_only_fields = ["updated_at", "updated_by"]


class WatchSerializer(serializers.ModelSerializer):
    annotator_name = serializers.CharField(source="annotator.get_printed_name", read_only=True)
    added_by = serializers.CharField(source="added_by.get_printed_name", read_only=True)

    class Meta:
        model = WatchedAnnotator
        fields = ["annotator", "annotator_name", "reason", "added_by", "added_at"]
        read_only_fields = fields


class WatchRequestSerializer(serializers.Serializer):
    annotator = id_field(help_text="The user id of the annotator.")
    reason = serializers.CharField(max_length=2000)


class ReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    requested_by = serializers.CharField(source="requested_by.get_printed_name", read_only=True)
    scope = serializers.CharField(read_only=True)
    structure_key = serializers.CharField(read_only=True, help_text="blank: every structure")
    status = serializers.CharField(read_only=True,
                                   help_text="queued, running, succeeded or failed")
    progress = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = AuditReport
        fields = ["id", "period_start", "period_end", "structure_key", "annotator",
                  "prompt_version", "scope", "status", "stage", "progress", "requested_by",
                  "requested_at", "started_at", "finished_at", "error", "chain_intact",
                  "chain_count", "chain_head_hash", "csv_sha256", "pdf_sha256", "downloads"]
        read_only_fields = fields

    def get_progress(self, report) -> dict:
        total = report.progress_total
        return {"done": report.progress_done, "total": total,
                "fraction": round(report.progress_done / total, 3) if total else 0.0}

    def get_downloads(self, report) -> dict:
        if report.status != "succeeded":
            return {}
        base = f"/api/v1/review/reports/{report.public_id}"
        return {"pdf": f"{base}/pdf", "csv": f"{base}/csv"}


class ReportRequestSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    structure_key = serializers.CharField(required=False, allow_blank=True)
    annotator = id_field(required=False, allow_null=True)
    prompt_version = id_field(required=False, allow_null=True)
