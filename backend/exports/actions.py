"""Exports of confirmed results (SEG download, SEG to the PACS, NIfTI) and imports of SEG
reference masks. Each ``do_*`` function checks authority, does the work and writes its rows
and audit entries in one transaction: an export that is not audited does not happen.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from annotations import masks as mask_codec
from annotations.models import Result
from annotations.provenance import code_version
from audit.trail import record_event
from imaging import access
from imaging.volumes import load_series_volume
from model.imaging import plan_series, to_part10_bytes

from . import stow
from .models import Destination, ExportFormat, ExportRecord, ReferenceMask, ReferenceSource
from .nifti import nifti_bytes
from .reference import (
    ImportedSeg,
    ReferenceImportError,
    file_sha256,
    parse_seg_bytes,
    read_reference_seg,
)
from .results import (
    EXPORTING_ROLES,
    check_can_export,
    check_one_series,
    confirmed_mask,
    creator_name,
    mask_record,
    seg_series_description,
    segments,
)
from .seg import SegExportError, SegOptions, SegType, build_seg

DICOM_TYPE = "application/dicom"
NIFTI_TYPE = "application/gzip"


@dataclass(frozen=True)
class ExportFile:
    record: ExportRecord
    data: bytes
    filename: str
    content_type: str


def do_export_seg(actor, results: Sequence[Result], seg_type: SegType = SegType.BINARY,
                  destination: str = Destination.DOWNLOAD) -> ExportFile:
    """One SEG holding the confirmed masks of ``results`` (one series), handed out or pushed
    to the PACS over STOW-RS. A failed push leaves no record: nothing left the system.
    A series over which no SEG can be made is refused (``seg.SegNotPossible``, the reason
    ``results.seg_exportability`` gives the pages), and a push without a PACS is refused
    before anything is built (``stow.PacsNotConfigured``)."""
    results = list(results)
    check_can_export(actor, results)
    check_one_series(results)
    series = results[0].series
    if destination == Destination.PACS:
        stow.site_pacs_url()
    built = segments(results)
    creator = creator_name(results)
    with transaction.atomic():
        headers = access.series_datasets(series, "seg export", actor=actor, headers_only=True)
        seg = build_seg(headers, plan_series(headers).order, built, SegOptions(
            creator=creator, seg_type=seg_type, software_version=code_version(),
            description="Confirmed: " + ", ".join(s.label for s in built),
            series_description=seg_series_description(results),
        ))
        data = to_part10_bytes(seg)
        pacs_url = stow.store(seg) if destination == Destination.PACS else ""
        record = _record(
            actor, results,
            ExportFormat.SEG_LABELMAP if seg_type is SegType.LABELMAP else ExportFormat.SEG_BINARY,
            destination, data, sop_instance_uid=str(seg.SOPInstanceUID),
            series_instance_uid=str(seg.SeriesInstanceUID), pacs_url=pacs_url,
        )
    name = "-".join(r.structure_key for r in results)
    return ExportFile(record, data, f"{name}-seg-{record.pk}.dcm", DICOM_TYPE)


def do_export_nifti(actor, result: Result) -> ExportFile:
    """The confirmed mask of ``result`` as .nii.gz with the series' affine."""
    check_can_export(actor, [result])
    mask = confirmed_mask(result)
    with transaction.atomic():
        volume = load_series_volume(result.series, actor=actor)
        if mask.shape != volume.shape:
            raise SegExportError(
                f"The mask has shape {mask.shape} but the series now has {volume.shape}; "
                "images were added after the result. Segment the series again."
            )
        data = nifti_bytes(mask, volume)
        record = _record(actor, [result], ExportFormat.NIFTI, Destination.DOWNLOAD, data)
    return ExportFile(record, data, f"{result.structure_key}-{record.pk}.nii.gz", NIFTI_TYPE)


def _record(actor, results, format_, destination, data, **fields) -> ExportRecord:
    record = ExportRecord.objects.create(
        format=format_, destination=destination, series=results[0].series,
        masks=[mask_record(r) for r in results], sha256=hashlib.sha256(data).hexdigest(),
        size=len(data), created_by=actor, **fields,
    )
    record.results.set(results)
    for result in results:
        record_event(
            action="result.export",
            actor=actor,
            target=result,
            new={"export": record.pk, "format": format_, "destination": destination,
                 "mask": mask_record(result), "sha256": record.sha256,
                 "sop_instance_uid": record.sop_instance_uid, "pacs": record.pacs_url},
            versions={
                "engine": result.provenance.get("engine"),
                "weights_sha256": result.provenance.get("weights_sha256"),
                "prompt_version": result.prompt_version_id,
                "code_version": result.provenance.get("code_version"),
            },
        )
    return record


def do_import_reference(actor, data: bytes, *, source: str = ReferenceSource.UPLOAD,
                        structures: dict[int, str] | None = None,
                        replace: bool = False) -> list[ReferenceMask]:
    """Store every segment of a SEG file as the reference mask of its structure on the series
    it was drawn on. All or nothing: one unusable segment refuses the whole file."""
    if not actor.has_role(*EXPORTING_ROLES):
        raise PermissionDenied("Importing reference masks requires the role annotator, "
                               "reviewer or site_admin.")
    dataset = parse_seg_bytes(data)
    with transaction.atomic():
        imported = read_reference_seg(dataset, file_sha256(data), actor.site, actor=actor,
                                      structures=structures)
        return [_store_reference(actor, imported, segment, source, replace)
                for segment in imported.segments]


def do_import_reference_from_pacs(actor, study_uid: str, series_uid: str, sop_uid: str, *,
                                  structures: dict[int, str] | None = None,
                                  replace: bool = False) -> list[ReferenceMask]:
    if not actor.has_role(*EXPORTING_ROLES):
        raise PermissionDenied("Importing reference masks requires the role annotator, "
                               "reviewer or site_admin.")
    data = to_part10_bytes(stow.fetch(study_uid, series_uid, sop_uid))
    return do_import_reference(actor, data, source=ReferenceSource.PACS, structures=structures,
                               replace=replace)


def _store_reference(actor, imported: ImportedSeg, segment, source, replace) -> ReferenceMask:
    sha = mask_codec.content_sha256(segment.mask)
    existing = ReferenceMask.objects.select_for_update().filter(
        series=imported.series, structure_key=segment.structure_key).first()
    if existing is not None and existing.sha256 == sha:
        return existing
    if existing is not None and not replace:
        raise ReferenceImportError(
            {"replace": f"Series {imported.series.pk} already has a reference mask of "
             f"{segment.structure_key} (from SEG {existing.seg_sop_instance_uid}); import "
             "with replace to swap it."}
        )
    old = {}
    if existing is not None:
        old = {"sha256": existing.sha256, "seg_sop_instance_uid": existing.seg_sop_instance_uid}
        existing.delete()
    codes = segment.codes
    reference = ReferenceMask.objects.create(
        series=imported.series, structure_key=segment.structure_key, label=segment.label[:64],
        codes={role: _plain(c) for role, c in
               (("category", codes.category), ("type", codes.type),
                ("laterality", codes.laterality)) if c is not None},
        data=mask_codec.encode(segment.mask), shape=list(segment.mask.shape), sha256=sha,
        voxel_count=int(segment.mask.sum()), source=source,
        seg_sop_instance_uid=imported.sop_instance_uid, seg_sha256=imported.sha256,
        segment_number=segment.number, imported_by=actor,
    )
    record_event(
        action="reference.import", actor=actor, target=reference, old=old,
        new={"series": imported.series.pk, "structure": segment.structure_key, "sha256": sha,
             "source": source, "seg_sop_instance_uid": imported.sop_instance_uid,
             "seg_sha256": imported.sha256, "segment": segment.number},
    )
    return reference


def _plain(concept) -> dict:
    return {"code": concept.value, "scheme": concept.scheme_designator,
            "meaning": concept.meaning}
