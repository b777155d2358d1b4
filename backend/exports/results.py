"""Which results may leave the system, and what their SEG segments say about them.

Only confirmed results are exported (DESIGN.md section 9, rule 5): the check names the result
and its state, so the user knows what to do. Everything a segment records -- codes, algorithm
type, engine, weights and prompt version, the clinician who confirmed it -- is read here from
the result and its pinned provenance, never from the current library.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied
from pydicom.uid import generate_uid

from accounts.roles import Role
from annotations import masks
from annotations.models import Result, ResultState
from audit.signatures import verify_signature
from imaging import access
from imaging.models import Series
from model.imaging import plan_series
from model.imaging.errors import ImagingError

from .codes import UnexportableCode, same_structure, structure_codes
from .seg import Algorithm, AlgorithmType, SegExportError, Segment, seg_problem

EXPORTING_ROLES = (Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN)

_WHY_NOT = {
    ResultState.AI_DRAFT: "an AI draft nobody has confirmed; confirm it with your signature "
    "first",
    ResultState.EDITED: "edited but not confirmed; confirm it with your signature first",
    ResultState.REJECTED: "rejected; a rejected result is never exported",
    ResultState.SUPERSEDED: "superseded by a newer result; export that one once confirmed",
    ResultState.OVERTURNED: "overturned at QA adjudication; segment the structure again and "
    "confirm the new result",
}


@dataclass(frozen=True)
class SegExportability:
    """Whether a SEG can be made over a series, and if not why, in the user's words."""

    possible: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.possible


def seg_exportability(series: Series, actor) -> SegExportability:
    """Whether any SEG can be made over ``series`` -- before anyone signs or clicks, so the
    pages say so instead of the export failing: images without a Frame of Reference UID,
    without a position in the patient (beyond one frame), or several multi-frame images.
    Reads the series' headers, recorded as a read of ``actor``'s (``imaging.access``)."""
    if series.problem:
        return SegExportability(False, "SEG cannot be made for this series: its images do not "
                                f"form one volume ({series.problem}).")
    headers = access.series_datasets(series, "seg export check", actor=actor, headers_only=True)
    try:
        order = plan_series(headers).order
    except ImagingError as exc:
        return SegExportability(False, "SEG cannot be made for this series: its images do not "
                                f"form one volume ({exc}).")
    problem = seg_problem(headers, order)
    return SegExportability(problem is None, problem or "")


def seg_series_description(results: Sequence[Result]) -> str:
    """The SEG's SeriesDescription (64 characters at most): the structures, the engine and
    that the masks are confirmed, e.g. "Left kidney - MedSAM-2 litemedsam (confirmed)"; the
    separator is ASCII, as the SEG declares no character set."""
    engines = ", ".join(dict.fromkeys(
        str(r.provenance.get("engine") or "unknown") for r in results))
    suffix = f" - MedSAM-2 {engines} (confirmed)"
    if len(suffix) > 40:
        suffix = " - MedSAM-2 (confirmed)"
    names = ", ".join(_name(r) for r in results)
    room = 64 - len(suffix)
    if len(names) > room:
        names = names[:room - 3] + "..."
    return names + suffix


def why_not_exported(result: Result) -> str:
    """What keeps ``result`` from export, in words, with what to do (its state)."""
    return _WHY_NOT.get(result.state, result.get_state_display())


def check_can_export(actor, results: Sequence[Result]) -> None:
    """Refuse (PermissionDenied, a 403 with the reason) unless ``actor`` may export all of
    ``results``: a role that sees results, the same site, and every result confirmed."""
    if not actor.has_role(*EXPORTING_ROLES):
        raise PermissionDenied("Exports require the role annotator, reviewer or site_admin.")
    for result in results:
        if result.series.study.patient.site_id != actor.site_id:
            raise PermissionDenied(f"Result {result.pk} belongs to another site.")
        if result.state != ResultState.CONFIRMED:
            raise PermissionDenied(
                f"Result {result.pk} ({_name(result)}) is "
                f"{why_not_exported(result)}. Only "
                "confirmed results can be exported."
            )
        check_signed_mask(result)


def check_signed_mask(result: Result) -> None:
    """Refuse a confirmed result whose mask, as its stored bytes decode now, is not what its
    signer signed: the hash is recomputed from the bytes, never taken from the stored column."""
    version = result.final_version
    try:
        current = version.content_sha256()
    except ValueError:
        current = "undecodable"
    check = verify_signature(result.signature, version, current)
    if not check:
        raise PermissionDenied(
            f"Result {result.pk} ({_name(result)}) is not exported: its confirmed mask does not "
            f"verify against the signature of {result.signature.printed_name} ({check.problem}). "
            "The stored mask or signature was changed outside the application; report it to "
            "the site administrator and the auditor."
        )


def check_one_series(results: Sequence[Result]) -> None:
    if not results:
        raise SegExportError("Choose at least one confirmed result to export.")
    if len({r.series_id for r in results}) > 1:
        raise SegExportError(
            "The results belong to different series; a SEG covers one series. Export them "
            "separately."
        )


def confirmed_mask(result: Result) -> np.ndarray:
    version = result.final_version
    return masks.decode(version.data, tuple(version.shape))


def mask_record(result: Result) -> dict:
    version = result.final_version
    return {"result": result.pk, "version": version.number, "sha256": version.sha256}


def creator_name(results: Sequence[Result]) -> str:
    """The DICOM person name of the clinician who confirmed the results (one SEG has one
    content creator, so results confirmed by different people are exported separately)."""
    deciders = {r.decided_by_id for r in results}
    if len(deciders) > 1:
        raise SegExportError(
            "The results were confirmed by different clinicians, and a SEG names one content "
            "creator; export each clinician's results separately."
        )
    result = results[0]
    user = result.decided_by
    if user.last_name:
        return f"{user.last_name[:64]}^{user.first_name[:64]}"
    # The printed name as the family name; the caret says it is one component on purpose.
    return result.signature.printed_name[:63].replace("^", " ") + "^"


def segments(results: Sequence[Result]) -> list[Segment]:
    built = []
    for result in results:
        content = result.prompt_version.content
        try:
            codes = structure_codes(content)
        except UnexportableCode as exc:
            raise SegExportError(f"{_name(result)}: {exc}.") from None
        for other, earlier in zip(results, built, strict=False):
            if same_structure(codes, earlier.codes):
                raise SegExportError(
                    f"Results {other.pk} and {result.pk} are both {_name(result)}; one SEG "
                    "holds each structure once. Choose one of them."
                )
        built.append(Segment(
            mask=confirmed_mask(result),
            label=content.get("name") or result.structure_key,
            codes=codes,
            algorithm_type=AlgorithmType.SEMIAUTOMATIC if result.edited
            else AlgorithmType.AUTOMATIC,
            algorithm=algorithm(result),
            colour=(content.get("display") or {}).get("colour"),
            tracking_id=f"result {result.pk}",
            tracking_uid=generate_uid(entropy_srcs=["medsam-result", str(result.job.public_id)]),
        ))
    return built


def algorithm(result: Result) -> Algorithm:
    provenance = result.provenance
    pinned = provenance.get("prompt_version") or {}
    key = pinned.get("key") or result.structure_key
    number = pinned.get("number") or result.prompt_version.number
    return Algorithm(
        engine=str(provenance.get("engine") or "unknown"),
        engine_version=str(provenance.get("engine_version") or ""),
        weights_sha256=str(provenance.get("weights_sha256") or ""),
        prompt_version=f"{key} v{number}",
    )


def _name(result: Result) -> str:
    return (result.prompt_version.content or {}).get("name") or result.structure_key
