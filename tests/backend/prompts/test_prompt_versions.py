"""The version state machine and the two-person rule, through the actions."""
import copy

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

import model.engines.registry  # noqa: F401  (part of this install: a broken one fails)
from audit.models import AuditEntry, Signature
from audit.signatures import SignatureRefused, verify_signature
from prompts.actions import (
    PromptActionRefused,
    do_approve,
    do_create_draft,
    do_load_library,
    do_reject,
    do_retire,
    do_submit,
    do_update_draft,
)
from prompts.actions.versions import transition
from prompts.models import ImmutableVersion, PromptEntry, PromptVersion
from prompts.source import read_library
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shipped():
    entries, problems = read_library()
    assert problems == []
    return entries


@pytest.fixture
def liver(sites, shipped):
    do_load_library(sites["home"], {"liver-ct.yaml": shipped["liver-ct.yaml"]})
    return PromptEntry.objects.get(site=sites["home"], key="liver-ct")


@pytest.fixture
def author(users):
    return users["prompt_admin"]


@pytest.fixture
def approver(users):
    return users["prompt_admin_member"]


def states(entry):
    return {v.number: v.state for v in entry.versions.all()}


def edited(version, **image):
    content = copy.deepcopy(version.content)
    content["image"]["window"].update(image)
    return content


def changed_draft(author, entry, **image):
    """A draft of ``entry``'s active version with its window changed (by default level 70)."""
    draft = do_create_draft(author, entry.active_version)
    return do_update_draft(author, draft, edited(draft, **(image or {"level": 70})))


def test_load_creates_approved_versions_and_is_idempotent(sites, shipped):
    report = do_load_library(sites["home"], shipped)
    assert len(report.created) == len(shipped)
    audit_count, version_count = AuditEntry.objects.count(), PromptVersion.objects.count()
    again = do_load_library(sites["home"], shipped)
    assert again.created == again.updated == []
    assert len(again.unchanged) == len(shipped)
    assert (AuditEntry.objects.count(), PromptVersion.objects.count()) == (
        audit_count, version_count)
    assert set(PromptVersion.objects.values_list("state", flat=True)) == {"approved"}


def test_a_changed_file_supersedes_the_previous_file_version(sites, shipped, liver):
    changed = copy.deepcopy(shipped["liver-ct.yaml"])
    changed["qa"]["sampling_rate"] = 0.3
    report = do_load_library(sites["home"], {"liver-ct.yaml": changed})
    assert report.updated == ["liver-ct"]
    assert states(liver) == {1: "retired", 2: "approved"}


def test_the_full_cycle_records_every_transition_and_a_bound_signature(liver, author, approver):
    v1 = liver.active_version
    draft = do_create_draft(author, v1)
    draft = do_update_draft(author, draft, edited(draft, level=70))
    do_submit(author, draft)
    approved = do_approve(approver, draft, password=PASSWORD, reason="checked on 5 cases")
    assert states(liver) == {1: "retired", 2: "approved"}
    assert approved.approved_by == approver
    history = [(t.from_state, t.to_state, t.actor_name) for t in approved.transitions.all()]
    assert history == [
        ("", "draft", author.get_printed_name()),
        ("draft", "in_review", author.get_printed_name()),
        ("in_review", "approved", approver.get_printed_name()),
    ]
    assert approved.transitions.last().reason == "checked on 5 cases"
    assert verify_signature(approved.approval_signature, approved, approved.content_sha256)
    actions = list(AuditEntry.objects.filter(object_type="prompts.promptversion")
                   .values_list("action", flat=True))
    assert actions[-6:] == ["prompt.draft.create", "prompt.draft.update", "prompt.submit",
                            "signature.sign", "prompt.retire", "prompt.approve"]


def test_the_author_cannot_approve_their_own_version(liver, author):
    draft = do_submit(author, changed_draft(author, liver))
    with pytest.raises(PromptActionRefused, match="two-person rule"):
        do_approve(author, draft, password=PASSWORD)
    draft.refresh_from_db()
    assert draft.state == "in_review"
    assert not Signature.objects.exists()


def test_whoever_edited_the_draft_cannot_approve_it_either(liver, author, approver):
    draft = do_create_draft(author, liver.active_version)
    do_update_draft(approver, draft, edited(draft, width=180))
    do_submit(author, draft)
    with pytest.raises(PromptActionRefused, match="two-person rule"):
        do_approve(approver, draft, password=PASSWORD)


def test_a_wrong_password_approves_nothing(liver, author, approver):
    draft = do_submit(author, changed_draft(author, liver))
    with pytest.raises(SignatureRefused):
        do_approve(approver, draft, password="not it")
    assert states(liver) == {1: "approved", 2: "in_review"}


def test_an_approved_version_cannot_be_edited(liver, author):
    v1 = liver.active_version
    original = copy.deepcopy(v1.content)
    with pytest.raises(PromptActionRefused, match="only a draft can be edited"):
        do_update_draft(author, v1, edited(v1, level=10))
    v1.content["image"]["window"]["level"] = 10
    with pytest.raises(ImmutableVersion):
        v1.save()
    v1.refresh_from_db()
    assert v1.content == original


def test_the_database_refuses_two_active_versions(liver):
    v1 = liver.active_version
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptVersion.objects.create(entry=liver, number=2, state="approved", content=v1.content,
                                     content_sha256=v1.content_sha256, origin="edit")


def test_only_one_draft_is_open_at_a_time(liver, author, approver):
    do_create_draft(author, liver.active_version)
    with pytest.raises(PromptActionRefused, match="already open"):
        do_create_draft(approver, liver.active_version)


def test_rejection_needs_a_reason_and_returns_the_version_to_draft(liver, author, approver):
    draft = do_submit(author, changed_draft(author, liver))
    with pytest.raises(PromptActionRefused, match="reason"):
        do_reject(approver, draft, "  ")
    do_reject(approver, draft, "window too narrow for fatty liver")
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert draft.transitions.last().reason == "window too narrow for fatty liver"


def test_retiring_leaves_no_active_version(liver, author):
    do_retire(author, liver.active_version, "protocol withdrawn")
    assert liver.active_version is None
    with pytest.raises(PromptActionRefused, match="only the approved version"):
        do_retire(author, liver.versions.get(number=1), "again")


def test_a_malformed_edit_is_refused_with_its_field(liver, author):
    draft = do_create_draft(author, liver.active_version)
    content = copy.deepcopy(draft.content)
    content["structure"]["type"]["code"] = "10200005"
    with pytest.raises(PromptActionRefused) as refused:
        do_update_draft(author, draft, content)
    assert "structure.type" in refused.value.messages[0]
    draft.refresh_from_db()
    assert draft.content == liver.active_version.content


def test_an_engine_that_is_not_installed_or_a_wrong_pin_cannot_be_submitted(liver, author):
    draft = do_create_draft(author, liver.active_version)
    content = copy.deepcopy(draft.content)
    content["engine"]["name"] = "no-such-engine"
    do_update_draft(author, draft, content)
    with pytest.raises(PromptActionRefused, match="not installed here"):
        do_submit(author, draft)
    content["engine"] = {"name": "litemedsam", "weights_sha256": "0" * 64}
    do_update_draft(author, draft, content)
    with pytest.raises(PromptActionRefused, match="weights are 79d8c9dc"):
        do_submit(author, draft)
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_only_this_sites_prompt_administrators_write(liver, users):
    for key in ("annotator", "reviewer", "site_admin", "prompt_admin_outsider"):
        with pytest.raises(PermissionDenied):
            do_create_draft(users[key], liver.active_version)
    assert liver.versions.count() == 1


def trail(version):
    return list(AuditEntry.objects.filter(object_type="prompts.promptversion",
                                          object_id=str(version.pk))
                .values_list("action", flat=True))


def test_a_draft_identical_to_the_active_version_cannot_be_submitted(liver, author):
    draft = changed_draft(author, liver)
    do_update_draft(author, draft, copy.deepcopy(liver.active_version.content))
    before = trail(draft)
    with pytest.raises(PromptActionRefused, match="identical to version 1, the active version"):
        do_submit(author, draft)
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert [t.to_state for t in draft.transitions.all()] == ["draft"]
    assert trail(draft) == before == ["prompt.draft.create", "prompt.draft.update",
                                      "prompt.draft.update"]


def test_a_version_in_review_identical_to_the_active_one_cannot_be_approved(
        liver, author, approver):
    # As submitted before submission checked it: an unchanged copy of v1 in review.
    draft = do_create_draft(author, liver.active_version)
    transition(draft, "in_review", author)
    audit_count, transitions = AuditEntry.objects.count(), draft.transitions.count()
    with pytest.raises(PromptActionRefused) as refused:
        do_approve(approver, draft, password=PASSWORD)
    assert "liver-ct v2 is identical to version 1, the active version" in refused.value.messages[0]
    assert states(liver) == {1: "approved", 2: "in_review"}
    assert not Signature.objects.exists()
    assert (AuditEntry.objects.count(), draft.transitions.count()) == (audit_count, transitions)
    do_reject(approver, draft, "identical to the active version")
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_a_retired_versions_content_can_be_approved_again(liver, author, approver):
    v1 = liver.active_version
    do_retire(author, v1, "withdrawn for review")
    draft = do_submit(author, do_create_draft(author, v1))
    approved = do_approve(approver, draft, password=PASSWORD)
    assert approved.content_sha256 == v1.content_sha256
    assert states(liver) == {1: "retired", 2: "approved"}
