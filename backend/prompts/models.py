"""The prompt library in the database: entries per site, their immutable approved versions,
every state change as a row, and robustness measurements.

Only ``prompts.actions`` writes these models; it records each change in the audit trail.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q


class ImmutableVersion(Exception):
    """Raised when something tries to change the content of a version past draft."""


class PromptEntry(models.Model):
    """One structure in one modality at one site: what a user picks in the viewer.

    site: the hospital whose library this is; each site approves its own versions.
    key: stable identifier shared across sites (``kidney-left-ct``), the file name of the source.
    modality: DICOM modality of the series it applies to; copied from the content.
    name: display name, copied from the newest version so lists need no join.
    """

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    key = models.SlugField(max_length=64)
    modality = models.CharField(max_length=8)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["modality", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "key"], name="prompts_entry_key_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.modality})"

    @property
    def active_version(self):
        return self.versions.filter(state=VersionState.APPROVED).first()


class VersionState(models.TextChoices):
    DRAFT = "draft", "draft"
    IN_REVIEW = "in_review", "in review"
    APPROVED = "approved", "approved"
    RETIRED = "retired", "retired"


class Origin(models.TextChoices):
    FILE = "file", "library source file"
    EDIT = "edit", "edited here"
    IMPORT = "import", "imported from another site"


class PromptVersion(models.Model):
    """One numbered version of an entry's content.

    number: 1, 2, ... per entry, in order of creation.
    state: draft -> in_review -> approved -> retired; a rejection sends in_review back to draft.
        At most one approved (active) version and one open (draft or in review) version per
        entry, enforced by the database.
    content: the entry document (the schema in ``prompt_library/schema.json``); frozen once
        the version leaves draft.
    content_sha256: sha256 of the canonical JSON of ``content`` (``prompts.bundle``); results
        and signatures record it.
    origin: where the content came from (``Origin``); ``based_on`` the version it was edited
        from; ``source_sha256`` the file or bundle content hash it was loaded from.
    author: who wrote this version (None for content loaded from the shipped files, whose
        author and approver are named in ``content.provenance``); ``contributors``: the author
        and everyone who edited the draft -- none of them may approve it.
    approved_by / approved_at / approval_signature: the second person and their electronic
        signature (meaning "approved", bound to ``content_sha256``).
    import_record: for imported versions, the sending site and its approval record.
    """

    entry = models.ForeignKey(PromptEntry, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=VersionState.choices, db_index=True)
    content = models.JSONField()
    content_sha256 = models.CharField(max_length=64)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_sha256 = models.CharField(max_length=64, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_signature = models.OneToOneField(
        "audit.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    import_record = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["entry", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="prompts_version_number"),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state="approved"),
                name="prompts_one_active_approved_version",
            ),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state__in=["draft", "in_review"]),
                name="prompts_one_open_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} v{self.number} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = PromptVersion.objects.filter(pk=self.pk).values("state", "content").first()
            if stored and stored["state"] != VersionState.DRAFT and (
                stored["content"] != self.content
            ):
                raise ImmutableVersion(
                    f"{self.label} is {stored['state']}: its content cannot change; edit it to "
                    "create a new draft"
                )
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.entry.key} v{self.number}"

    @property
    def editable(self) -> bool:
        return self.state == VersionState.DRAFT


class PromptTransition(models.Model):
    """One state change of a version: who, when, from, to, why. The history is data."""

    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=12, blank=True)  # blank: the version was created
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200)
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.version.label}: {self.from_state or '-'} -> {self.to_state}"


class RobustnessRun(models.Model):
    """The robustness score of a version: its engine re-run on reference cases with the prompt
    perturbed within the template's tolerance, Dice against the unperturbed run.

    A measurement about a version, not part of its content, so an approved version can gain
    one without changing.
    """

    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="robustness")
    computed_at = models.DateTimeField()
    engine = models.CharField(max_length=64)
    weights_sha256 = models.CharField(max_length=64)
    tolerance = models.CharField(max_length=32)
    cases = models.JSONField(default=list)
    runs = models.PositiveIntegerField()
    dice_mean = models.FloatField()
    dice_p5 = models.FloatField()
    dice_min = models.FloatField()
    truth_dice_mean = models.FloatField(null=True, blank=True)
    seed = models.IntegerField(default=0)

    class Meta:
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version.label}: Dice {self.dice_mean:.3f} (p5 {self.dice_p5:.3f})"
