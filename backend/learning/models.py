"""Training sets drawn from confirmed results, training jobs, and the model versions they
produce. Only ``learning.actions`` writes these models, with an audit entry per change."""
import uuid

from django.conf import settings
from django.db import models


class Side(models.TextChoices):
    TRAIN = "train", "train"
    VALIDATION = "validation", "validation"


class TrainingSet(models.Model):
    """The confirmed results of one structure in one modality at one site.

    qa_passed_only: only results whose QA reading agreed (or whose adjudication upheld them).
    salt: seeds the patient-level split; patients already placed by an earlier set of the same
        structure keep their side.
    frozen_at: set when a training job first uses the set; from then on its members and
        split never change (a new set is drawn for new confirmations).
    """

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    structure_key = models.SlugField(max_length=64)
    modality = models.CharField(max_length=8)
    qa_passed_only = models.BooleanField(default=False)
    validation_fraction = models.FloatField(default=0.3)
    salt = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Training set {self.pk} ({self.structure_key}, {self.modality})"


class TrainingMember(models.Model):
    """One confirmed result in a set, on one side of the split, with its patient."""

    training_set = models.ForeignKey(TrainingSet, on_delete=models.PROTECT,
                                     related_name="members")
    result = models.ForeignKey("annotations.Result", on_delete=models.PROTECT, related_name="+")
    mask_version = models.ForeignKey("annotations.MaskVersion", on_delete=models.PROTECT,
                                     related_name="+")
    patient_id = models.CharField(max_length=64)
    side = models.CharField(max_length=12, choices=Side.choices)

    class Meta:
        ordering = ["training_set", "id"]
        constraints = [models.UniqueConstraint(fields=["training_set", "result"],
                                               name="learning_result_once_per_set")]


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (TrainingStatus.SUCCEEDED, TrainingStatus.FAILED, TrainingStatus.CANCELLED)


class TrainingJob(models.Model):
    """A fine-tune of ``base_engine`` on a frozen training set, run by a ``cpu`` worker.

    config: the hyperparameters (``model.training.finetune.FineTuneConfig``) plus
        ``max_slices_per_result``; the seed is among them.
    stage / progress_done / progress_total: what the worker is doing and how far it is.
    attempt_token: set when a worker claims the job; only that attempt may finish it.
    model_version: the version it produced (several jobs may reproduce the same weights).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    training_set = models.ForeignKey(TrainingSet, on_delete=models.PROTECT, related_name="jobs")
    base_engine = models.CharField(max_length=64)
    config = models.JSONField()
    status = models.CharField(max_length=12, choices=TrainingStatus.choices,
                              default=TrainingStatus.QUEUED, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    attempt_token = models.UUIDField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    stage = models.CharField(max_length=32, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    model_version = models.ForeignKey("ModelVersion", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="jobs")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Training job {self.public_id}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class TrainingTransition(models.Model):
    """Each change of a training job's status: who or which worker, when, from, to, why."""

    job = models.ForeignKey(TrainingJob, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    worker = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class ModelVersion(models.Model):
    """A fine-tuned engine version: weights ``MEDIA_ROOT/models/<weights_sha256>.pth``.

    engine_name / int8_engine_name: its names in the engine registry.
    base_engine / base_weights_sha256: what it was fine-tuned from.
    data_sha256: over the training examples (images, masks, sources) in order.
    hyperparameters: the job's config, the seed included; code_version: the git revision.
    validation: Dice before and after on the validation split (fp32 and int8), the
        robustness score, per-example figures and the training losses.
    """

    weights_sha256 = models.CharField(max_length=64, unique=True)
    engine_name = models.CharField(max_length=64, unique=True)
    int8_engine_name = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=128)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    structure_key = models.SlugField(max_length=64)
    modality = models.CharField(max_length=8)
    base_engine = models.CharField(max_length=64)
    base_weights_sha256 = models.CharField(max_length=64)
    training_set = models.ForeignKey(TrainingSet, on_delete=models.PROTECT, related_name="+")
    data_sha256 = models.CharField(max_length=64)
    hyperparameters = models.JSONField()
    code_version = models.CharField(max_length=64)
    validation = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.engine_name


class UncertaintyScore(models.Model):
    """How unsure an engine is on a series for a structure, for active learning.

    confidence: the lower of the predicted IoU and the agreement under box perturbation on
        the key slice (0..1); the worklist offers the lowest first.
    details: how it was measured (slice, box, predicted IoU, agreement Dice per run).
    """

    series = models.ForeignKey("imaging.Series", on_delete=models.CASCADE, related_name="+")
    structure_key = models.SlugField(max_length=64)
    engine = models.CharField(max_length=64)
    weights_sha256 = models.CharField(max_length=64)
    confidence = models.FloatField()
    details = models.JSONField(default=dict)
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["confidence", "id"]
        constraints = [models.UniqueConstraint(
            fields=["series", "structure_key", "engine", "weights_sha256"],
            name="learning_one_score_per_engine")]
