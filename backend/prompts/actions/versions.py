"""The version life cycle: draft -> in_review -> approved -> retired, with the two-person rule.

Every ``do_*`` function checks authority, changes state, writes a ``PromptTransition`` row and
an audit entry, all in one transaction; a refusal raises before anything is written.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import Meaning
from audit.signatures import do_sign
from audit.trail import record_event

from ..bundle import content_hash
from ..engine_pins import RegistryMissing, engine_problems
from ..models import Origin, PromptEntry, PromptTransition, PromptVersion
from ..models import VersionState as S
from ..source import validate_entry


class PromptActionRefused(ValidationError):
    """A refused library action; ``messages`` say what was wrong and what to do."""


def require_prompt_admin(actor, site) -> None:
    if not (actor is not None and actor.has_role(Role.PROMPT_ADMIN)):
        raise PermissionDenied("Only a prompt-library administrator can change the library.")
    if actor.site_id != site.pk:
        raise PermissionDenied(f"You administer another site's library, not {site.name}'s.")


def actor_name(actor) -> str:
    return actor.get_printed_name() if actor is not None else "library loader"


def transition(version: PromptVersion, to_state: str, actor, reason: str = "", at=None) -> None:
    """Move ``version`` to ``to_state`` and record the row. Callers hold the transaction."""
    at = at or timezone.now()
    from_state = version.state if version.pk else ""
    version.state = to_state
    if to_state == S.RETIRED:
        version.retired_at = at
    version.save()
    PromptTransition.objects.create(
        version=version, from_state=from_state, to_state=to_state, actor=actor,
        actor_name=actor_name(actor), at=at, reason=reason,
    )


def audit(action: str, actor, version: PromptVersion, old=None, new=None, reason="") -> None:
    record_event(
        action=action, actor=actor, target=version, old=old, new=new, reason=reason,
        versions={"prompt_version": version.label, "content_sha256": version.content_sha256},
    )


def check_content(content, source: str, entry: PromptEntry | None = None) -> None:
    if not isinstance(content, dict):
        raise PromptActionRefused(f"{source}: the entry must be a mapping of fields")
    problems = validate_entry(content, source)
    if not problems and entry is not None:
        if (content["key"], content["modality"]) != (entry.key, entry.modality):
            problems = [f"{source}: key and modality must stay {entry.key!r} and "
                        f"{entry.modality!r}; create a new entry for another structure"]
    if problems:
        raise PromptActionRefused([str(p) for p in problems])


def check_engine(content: dict, source: str) -> None:
    """Refuse an entry whose engine is not installed here or whose weights pin differs."""
    try:
        problems = engine_problems(content, source)
    except RegistryMissing as exc:
        raise PromptActionRefused(f"{source}: engine cannot be checked: {exc}") from exc
    if problems:
        raise PromptActionRefused([str(p) for p in problems])


def _locked(version: PromptVersion) -> PromptVersion:
    return PromptVersion.objects.select_for_update().select_related("entry").get(pk=version.pk)


def _open_version(entry: PromptEntry) -> PromptVersion | None:
    return entry.versions.filter(state__in=[S.DRAFT, S.IN_REVIEW]).first()


def _next_number(entry: PromptEntry) -> int:
    last = entry.versions.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def new_version(entry, content, *, state, origin, actor, based_on=None, source_sha256="",
                import_record=None, reason="") -> PromptVersion:
    """Create and record a version (callers check authority and hold the transaction)."""
    version = PromptVersion(
        entry=entry, number=_next_number(entry), content=content,
        content_sha256=content_hash(content), origin=origin, based_on=based_on,
        source_sha256=source_sha256, author=actor, import_record=import_record or {},
    )
    transition(version, state, actor, reason)
    if actor is not None:
        version.contributors.add(actor)
    if entry.name != content["name"]:
        entry.name = content["name"]
        entry.save(update_fields=["name"])
    return version


def do_create_entry(actor, site, content: dict) -> PromptVersion:
    """A new structure for this site's library, as version 1 in draft."""
    require_prompt_admin(actor, site)
    check_content(content, "new entry")
    with transaction.atomic():
        if PromptEntry.objects.filter(site=site, key=content["key"]).exists():
            raise PromptActionRefused(
                f"new entry: key: {content['key']!r} already exists in {site.name}'s library; "
                "edit it instead, or choose another key"
            )
        entry = PromptEntry.objects.create(
            site=site, key=content["key"], modality=content["modality"], name=content["name"]
        )
        version = new_version(entry, content, state=S.DRAFT, origin=Origin.EDIT, actor=actor)
        audit("prompt.entry.create", actor, version, new={"state": S.DRAFT})
    return version


def do_create_draft(actor, version: PromptVersion) -> PromptVersion:
    """Editing an approved (or retired) version: a new draft with its content."""
    require_prompt_admin(actor, version.entry.site)
    with transaction.atomic():
        entry = PromptEntry.objects.select_for_update().get(pk=version.entry_id)
        open_version = _open_version(entry)
        if open_version is not None:
            raise PromptActionRefused(
                f"{open_version.label} is already open ({open_version.get_state_display()}); "
                "continue with it, or have it rejected, before starting another draft"
            )
        draft = new_version(entry, version.content, state=S.DRAFT, origin=Origin.EDIT,
                            actor=actor, based_on=version)
        audit("prompt.draft.create", actor, draft, new={"state": S.DRAFT,
                                                       "based_on": version.label})
    return draft


def do_update_draft(actor, version: PromptVersion, content: dict) -> PromptVersion:
    require_prompt_admin(actor, version.entry.site)
    with transaction.atomic():
        version = _locked(version)
        if version.state != S.DRAFT:
            raise PromptActionRefused(
                f"{version.label} is {version.get_state_display()}: only a draft can be edited; "
                "create a new draft from it instead"
            )
        check_content(content, version.label, version.entry)
        old_sha = version.content_sha256
        version.content = content
        version.content_sha256 = content_hash(content)
        version.save()
        version.contributors.add(actor)
        if version.entry.name != content["name"]:
            version.entry.name = content["name"]
            version.entry.save(update_fields=["name"])
        audit("prompt.draft.update", actor, version, old={"content_sha256": old_sha},
              new={"content_sha256": version.content_sha256})
    return version


def check_differs_from_active(version: PromptVersion, what_to_do: str) -> None:
    """Refuse a version whose content is the entry's active version's: approving it would
    retire a version only to put the same content in its place."""
    active = version.entry.versions.filter(state=S.APPROVED).exclude(pk=version.pk).first()
    if active is not None and content_hash(active.content) == content_hash(version.content):
        raise PromptActionRefused(
            f"{version.label} is identical to version {active.number}, the active version of "
            f"{version.entry.key}: {what_to_do}"
        )


def do_submit(actor, version: PromptVersion) -> PromptVersion:
    require_prompt_admin(actor, version.entry.site)
    with transaction.atomic():
        version = _locked(version)
        if version.state != S.DRAFT:
            raise PromptActionRefused(f"{version.label} is {version.get_state_display()}: only "
                                      "a draft can be submitted for review")
        check_differs_from_active(version, "change the draft before submitting it for review")
        check_content(version.content, version.label, version.entry)
        check_engine(version.content, version.label)
        transition(version, S.IN_REVIEW, actor)
        audit("prompt.submit", actor, version, old={"state": S.DRAFT},
              new={"state": S.IN_REVIEW})
    return version


def _check_approvable(actor, version: PromptVersion) -> None:
    if version.state != S.IN_REVIEW:
        raise PromptActionRefused(f"{version.label} is {version.get_state_display()}: only a "
                                  "version in review can be approved")
    check_differs_from_active(version, "approving it would change nothing; reject it back to "
                                       "draft and change it, or leave the active version as it is")
    if version.contributors.filter(pk=actor.pk).exists():
        raise PromptActionRefused(
            f"You wrote or edited {version.label}: another prompt administrator must approve it "
            "(two-person rule)"
        )
    check_content(version.content, version.label, version.entry)
    check_engine(version.content, version.label)


def do_approve(actor, version: PromptVersion, *, password: str, reason: str = "") -> PromptVersion:
    """Approve with an electronic signature (meaning "approved") bound to the content hash.

    The version becomes the entry's active one; the version it replaces is retired. The
    password is asked for again (``audit.signatures.do_sign``); a wrong one approves nothing.
    """
    require_prompt_admin(actor, version.entry.site)
    with transaction.atomic():
        _check_approvable(actor, _locked(version))

    def approve(signature) -> None:
        current = _locked(version)
        _check_approvable(actor, current)
        now = timezone.now()
        active = current.entry.versions.select_for_update().filter(state=S.APPROVED).first()
        if active is not None:
            transition(active, S.RETIRED, actor, f"superseded by {current.label}", at=now)
            audit("prompt.retire", actor, active, old={"state": S.APPROVED},
                  new={"state": S.RETIRED}, reason=f"superseded by {current.label}")
        current.approved_by, current.approved_at = actor, now
        current.approval_signature = signature
        transition(current, S.APPROVED, actor, reason, at=now)
        audit("prompt.approve", actor, current, old={"state": S.IN_REVIEW},
              new={"state": S.APPROVED, "signature": signature.pk}, reason=reason)
        version.refresh_from_db()

    do_sign(actor, password, version, version.content_sha256, Meaning.APPROVED, reason=reason,
            then=approve)
    return version


def do_reject(actor, version: PromptVersion, reason: str) -> PromptVersion:
    """Send a version in review back to draft, with the reason the author must address."""
    require_prompt_admin(actor, version.entry.site)
    if not reason.strip():
        raise PromptActionRefused("Give the reason for the rejection: the author needs it.")
    with transaction.atomic():
        version = _locked(version)
        if version.state != S.IN_REVIEW:
            raise PromptActionRefused(f"{version.label} is {version.get_state_display()}: only "
                                      "a version in review can be rejected")
        transition(version, S.DRAFT, actor, reason)
        audit("prompt.reject", actor, version, old={"state": S.IN_REVIEW},
              new={"state": S.DRAFT}, reason=reason)
    return version


def do_retire(actor, version: PromptVersion, reason: str) -> PromptVersion:
    """Withdraw the active version: users can no longer pick the structure until another
    version is approved."""
    require_prompt_admin(actor, version.entry.site)
    if not reason.strip():
        raise PromptActionRefused("Give the reason for retiring the version.")
    with transaction.atomic():
        version = _locked(version)
        if version.state != S.APPROVED:
            raise PromptActionRefused(f"{version.label} is {version.get_state_display()}: only "
                                      "the approved version can be retired")
        transition(version, S.RETIRED, actor, reason)
        audit("prompt.retire", actor, version, old={"state": S.APPROVED},
              new={"state": S.RETIRED}, reason=reason)
    return version


