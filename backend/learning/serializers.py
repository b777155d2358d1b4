from rest_framework import serializers

from .models import ModelVersion, TrainingJob, TrainingSet


class TrainingSetSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = TrainingSet
        fields = ["id", "structure_key", "modality", "qa_passed_only", "validation_fraction",
                  "created_at", "frozen_at", "members"]

    def get_members(self, obj) -> list[dict]:
        return list(obj.members.values("result_id", "patient_id", "side"))


class TrainingJobSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="engine_name", read_only=True,
                                                 allow_null=True)

    class Meta:
        model = TrainingJob
        fields = ["public_id", "training_set", "base_engine", "config", "status", "stage",
                  "progress_done", "progress_total", "cancel_requested", "error", "created_at",
                  "started_at", "finished_at", "model_version"]


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["engine_name", "int8_engine_name", "weights_sha256", "label", "structure_key",
                  "modality", "base_engine", "base_weights_sha256", "training_set",
                  "data_sha256", "hyperparameters", "code_version", "validation", "created_at"]


class NewTrainingSetSerializer(serializers.Serializer):
    """The request that freezes a training set (``actions.do_create_training_set`` checks the
    structure, the split and that there are results to train on)."""

    structure_key = serializers.SlugField(max_length=64)
    modality = serializers.CharField(max_length=16)
    qa_passed_only = serializers.BooleanField(default=False)
    validation_fraction = serializers.FloatField(default=0.3, min_value=0.0, max_value=1.0)


class NewTrainingJobSerializer(serializers.Serializer):
    training_set = serializers.IntegerField(min_value=1,
                                            help_text="The id of one of your site's sets.")
    base_engine = serializers.CharField(max_length=64, default="litemedsam")
    config = serializers.DictField(default=dict, help_text="Fine-tune settings (epochs...).")


class CancelTrainingSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="")
