"""Moving library content in and out: the shipped source files, bundles between hospitals,
and robustness measurements."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from audit.trail import record_event

from ..bundle import BundleItem, build_bundle, content_hash, read_bundle
from ..diff import field_changes
from ..models import Origin, PromptEntry, PromptVersion, RobustnessRun
from ..models import VersionState as S
from .versions import (
    PromptActionRefused,
    audit,
    new_version,
    require_prompt_admin,
    transition,
)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)


def do_load_library(site, entries: dict[str, dict]) -> LoadReport:
    """Load validated source files as approved versions of ``site``'s library (idempotent).

    A file whose content is already a version of its entry changes nothing. A changed file
    becomes the new approved version and retires the previous file version, unless a version
    edited or imported at this site is active or open: local work is never overwritten.
    """
    report = LoadReport()
    with transaction.atomic():
        for source, content in sorted(entries.items()):
            sha = content_hash(content)
            entry, created = PromptEntry.objects.select_for_update().get_or_create(
                site=site, key=content["key"],
                defaults={"modality": content["modality"], "name": content["name"]},
            )
            if entry.versions.filter(source_sha256=sha).exists():
                report.unchanged.append(entry.key)
                continue
            local = entry.versions.exclude(origin=Origin.FILE).filter(
                state__in=[S.APPROVED, S.DRAFT, S.IN_REVIEW]).first()
            if local is not None:
                report.kept_local.append(f"{entry.key} ({local.label} is {local.state})")
                continue
            active = entry.versions.filter(state=S.APPROVED).first()
            provenance = content["provenance"]
            reason = (f"loaded from prompt_library/structures/{source}; author "
                      f"{provenance['author']}, approver {provenance['approver']}")
            if active is not None:
                transition(active, S.RETIRED, None, f"superseded by {source}")
                audit("prompt.retire", None, active, old={"state": S.APPROVED},
                      new={"state": S.RETIRED}, reason=f"superseded by {source}")
            version = new_version(entry, content, state=S.APPROVED, origin=Origin.FILE,
                                  actor=None, source_sha256=sha, reason=reason)
            audit("prompt.load", None, version, new={"state": S.APPROVED}, reason=reason)
            (report.created if created else report.updated).append(entry.key)
    return report


def do_export_bundle(actor, site, keys: list[str] | None = None) -> dict:
    """The site's active approved versions (all, or those named) as one bundle."""
    require_prompt_admin(actor, site)
    versions = PromptVersion.objects.filter(entry__site=site, state=S.APPROVED).select_related(
        "entry", "author", "approved_by", "approval_signature").order_by("entry__key")
    if keys:
        versions = versions.filter(entry__key__in=keys)
        missing = set(keys) - {v.entry.key for v in versions}
        if missing:
            raise PromptActionRefused(
                "No approved version to export for: " + ", ".join(sorted(missing)))
    items = [BundleItem(v.entry.key, v.entry.modality, v.number, v.content, _approval(v))
             for v in versions]
    if not items:
        raise PromptActionRefused("There is no approved version to export.")
    now = timezone.now()
    bundle = build_bundle(items, created_at=now.isoformat(), created_by=actor.get_printed_name(),
                          site={"code": site.code, "name": site.name})
    with transaction.atomic():
        record_event(action="prompt.export", actor=actor, object_type="prompts.bundle",
                     object_id=bundle["items_sha256"][:16],
                     new={"items": [f"{i.key} v{i.version}" for i in items],
                          "items_sha256": bundle["items_sha256"]})
    return bundle


def _approval(version: PromptVersion) -> dict:
    signature = version.approval_signature
    return {
        "state": version.state,
        "origin": version.origin,
        "author": version.author.get_printed_name() if version.author else
        version.content["provenance"]["author"],
        "approved_by": version.approved_by.get_printed_name() if version.approved_by else
        version.content["provenance"]["approver"],
        "approved_at": version.approved_at.isoformat() if version.approved_at else None,
        "signature": signature.manifestation() if signature else None,
        "transitions": [
            {"from": t.from_state, "to": t.to_state, "by": t.actor_name,
             "at": t.at.isoformat(), "reason": t.reason}
            for t in version.transitions.all()
        ],
    }


@dataclass
class ImportLine:
    key: str
    modality: str
    status: str  # new, changed, identical, blocked
    changes: list[dict]
    note: str = ""


def preview_import(site, raw: bytes | str, name: str = "bundle") -> tuple[dict, list[ImportLine]]:
    """Verify a bundle and say, per entry, how it differs from this site's library.

    Raises ``PromptActionRefused`` listing every problem when the bundle fails verification.
    """
    try:
        header, items = read_bundle(raw, name)
    except Exception as exc:  # LibraryError: hashes, format or content
        problems = getattr(exc, "problems", None)
        if problems is None:
            raise
        raise PromptActionRefused([str(p) for p in problems]) from exc
    lines = []
    for item in items:
        entry = PromptEntry.objects.filter(site=site, key=item.key).first()
        active = entry.active_version if entry else None
        open_version = (entry.versions.filter(state__in=[S.DRAFT, S.IN_REVIEW]).first()
                        if entry else None)
        if entry is None:
            lines.append(ImportLine(item.key, item.modality, "new",
                                    [c.as_dict() for c in field_changes({}, item.content)]))
        elif active is not None and active.content_sha256 == content_hash(item.content):
            lines.append(ImportLine(item.key, item.modality, "identical", []))
        else:
            base = active.content if active else {}
            changes = [c.as_dict() for c in field_changes(base, item.content)]
            if open_version is not None:
                lines.append(ImportLine(item.key, item.modality, "blocked", changes,
                                        f"{open_version.label} is open here; finish it first"))
            else:
                lines.append(ImportLine(item.key, item.modality, "changed", changes))
    return header, lines


def do_import_bundle(actor, site, raw: bytes | str, name: str = "bundle") -> list[PromptVersion]:
    """Create a local draft for every new or changed entry of a verified bundle.

    All or nothing: a bundle that fails verification, or that would add a draft where one is
    already open, changes nothing. Drafts still need this site's review and approval.
    """
    require_prompt_admin(actor, site)
    header, lines = preview_import(site, raw, name)
    blocked = [f"{line.key}: {line.note}" for line in lines if line.status == "blocked"]
    if blocked:
        raise PromptActionRefused(blocked)
    _header, items = read_bundle(raw, name)
    by_key = {item.key: item for item in items}
    drafts = []
    with transaction.atomic():
        for line in lines:
            if line.status == "identical":
                continue
            item = by_key[line.key]
            entry, _ = PromptEntry.objects.select_for_update().get_or_create(
                site=site, key=item.key,
                defaults={"modality": item.modality, "name": item.content["name"]})
            record = {"source_site": header.get("source_site"), "bundle": name,
                      "items_sha256": header["items_sha256"], "exported_by":
                      header.get("created_by"), "remote_version": item.version,
                      "remote_approval": item.approval}
            draft = new_version(entry, item.content, state=S.DRAFT, origin=Origin.IMPORT,
                                actor=actor, based_on=entry.active_version,
                                source_sha256=content_hash(item.content), import_record=record,
                                reason=f"imported from {record['source_site']}")
            audit("prompt.import", actor, draft, new={"state": S.DRAFT, "bundle": name,
                                                      "items_sha256": header["items_sha256"]})
            drafts.append(draft)
    return drafts


def do_record_robustness(actor, version: PromptVersion, stability, *, engine: str,
                         weights_sha256: str, cases: list[str], seed: int) -> RobustnessRun:
    """Attach a robustness score (``prompts.robustness.Stability``) to a version."""
    if actor is not None:
        require_prompt_admin(actor, version.entry.site)
    summary = stability.as_dict()
    tolerance = version.content["interaction"]["tolerance"]
    with transaction.atomic():
        run = RobustnessRun.objects.create(
            version=version, computed_at=timezone.now(), engine=engine,
            weights_sha256=weights_sha256, tolerance=f"{tolerance['value']} {tolerance['unit']}",
            cases=cases, runs=summary["runs"], dice_mean=summary["dice_mean"],
            dice_p5=summary["dice_p5"], dice_min=summary["dice_min"],
            truth_dice_mean=summary.get("truth_dice_mean"), seed=seed,
        )
        audit("prompt.robustness", actor, version, new=summary)
    return run
