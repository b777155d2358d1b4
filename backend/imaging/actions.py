"""Ingest: storing checked images as Patient/Study/Series/Instance rows with their files.

Each series touched is written in one transaction with its audit entry; a file that fails
while being stored rolls back alone (a savepoint) and its file is removed, so nothing of a
rejected file remains.

Every lookup by UID is scoped to the uploader's site: a site's images are its own, so a file
another site also holds is stored as this site's copy, and no answer depends on (or tells of)
what another site holds.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import BinaryIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from pydicom.dataset import Dataset

from audit.trail import record_event
from model.imaging import ImagingError, check_compatible, plan_series, volume_format
from model.imaging.geometry import orientation_established

from . import access
from .limits import UploadLimits
from .models import Instance, Patient, Series, SourceFormat, Study
from .outcomes import FileOutcome, IngestReport, Status, rejected
from .prepare import PreparedImage, prepare
from .uploads import expand
from .volumes import drop_cached_volumes

logger = logging.getLogger(__name__)

# Modalities a NIfTI or NRRD upload may be declared as (they carry none themselves).
VOLUME_MODALITIES = ("CT", "MR", "PT", "US", "OP", "XC", "CR", "DX", "MG", "XA", "OT")


def do_ingest(
    sources: Iterable[tuple[str, BinaryIO, int]],
    *,
    site,
    actor=None,
    allow_mixed_patients: bool = False,
    patient_id: str = "",
    modality: str = "",
    source_format: str = SourceFormat.DICOM,
    limits: UploadLimits | None = None,
) -> IngestReport:
    """Import files (name, stream, size); zips are expanded. Returns the per-file report.

    Unless ``allow_mixed_patients``, files of any patient other than the upload's main one
    (the patient of most files) are rejected: one upload, one patient. ``patient_id`` and
    ``modality`` apply to NIfTI and NRRD files, which carry neither.
    """
    if modality and modality not in VOLUME_MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(VOLUME_MODALITIES)}")
    report = IngestReport()
    prepared: list[PreparedImage] = []
    converted: dict[str, int] = {}
    limits = limits or UploadLimits.from_settings()
    for item in expand(sources, limits):
        if isinstance(item, FileOutcome):
            report.files.append(item)
            continue
        result = prepare(item, patient_id=patient_id, modality=modality,
                         max_decoded_bytes=limits.max_decoded_bytes)
        if isinstance(result, FileOutcome):
            report.files.append(result)
        else:
            prepared.extend(result)
            if volume_format(item.name):
                converted[item.name] = len(result)
    if not allow_mixed_patients:
        prepared = _keep_main_patient(prepared, report)
    prepared = _drop_repeats_within_upload(prepared, report)
    by_series: dict[str, list[PreparedImage]] = defaultdict(list)
    for image in prepared:
        by_series[image.series_uid].append(image)
    for series_uid, images in by_series.items():
        fmt = volume_format(images[0].origin) if images[0].origin in converted else source_format
        _ingest_series(series_uid, images, site=site, actor=actor, report=report, fmt=fmt)
    _collapse_converted(report, converted)
    return report


def _keep_main_patient(images: list[PreparedImage], report: IngestReport) -> list[PreparedImage]:
    if not images:
        return images
    main, _ = Counter(i.patient_key for i in images).most_common(1)[0]
    kept = []
    for image in images:
        if image.patient_key == main:
            kept.append(image)
        else:
            report.files.append(
                rejected(
                    image.origin,
                    "mixed_patients",
                    "the file belongs to another patient than the rest of the upload; "
                    "upload each patient separately",
                )
            )
    return kept


def _drop_repeats_within_upload(
    images: list[PreparedImage], report: IngestReport
) -> list[PreparedImage]:
    seen: dict[str, PreparedImage] = {}
    kept = []
    for image in images:
        first = seen.get(image.sop_instance_uid)
        if first is None:
            seen[image.sop_instance_uid] = image
            kept.append(image)
        elif first.sha256 == image.sha256:
            report.files.append(
                FileOutcome(image.origin, Status.DUPLICATE, "duplicate", "", image.series_uid)
            )
        else:
            report.files.append(_uid_conflict(image.origin))
    return kept


def _uid_conflict(name: str) -> FileOutcome:
    return rejected(
        name,
        "uid_conflict",
        "another image with the same SOPInstanceUID but different content exists; "
        "the sender reused a UID, ask for a corrected export",
    )


def _ingest_series(
    series_uid: str, images: list[PreparedImage], *, site, actor, report: IngestReport, fmt: str
) -> None:
    existing = {
        i.sop_instance_uid: i
        for i in Instance.objects.filter(
            site=site, sop_instance_uid__in=[x.sop_instance_uid for x in images]
        ).select_related("series")
    }
    fresh: list[PreparedImage] = []
    for image in images:
        stored = existing.get(image.sop_instance_uid)
        if stored is None:
            fresh.append(image)
        elif stored.sha256 == image.sha256 and stored.series.series_instance_uid == series_uid:
            report.files.append(
                FileOutcome(image.origin, Status.DUPLICATE, "duplicate", "", series_uid)
            )
        else:
            report.files.append(_uid_conflict(image.origin))
    if not fresh:
        return
    series = (
        Series.objects.filter(site=site, series_instance_uid=series_uid)
        .select_related("study__patient")
        .first()
    )
    refusal = _refuse_series(series, fresh[0].header, site)
    if refusal:
        report.files.extend(rejected(i.origin, *refusal) for i in fresh)
        return
    reference = _reference_header(series, actor) or fresh[0].header
    compatible = []
    for image in fresh:
        try:
            check_compatible(reference, image.header)
            compatible.append(image)
        except ImagingError as error:
            report.files.append(rejected(image.origin, error.code, error.message))
    if compatible:
        _store(series_uid, compatible, site=site, actor=actor, report=report, fmt=fmt)


def _refuse_series(series: Series | None, header: Dataset, site) -> tuple[str, str] | None:
    """Why this site cannot add the images to what it already holds (``series`` is this
    site's series of that UID, if any); other sites' images are never consulted."""
    study = (
        series.study
        if series
        else Study.objects.filter(site=site, study_instance_uid=str(header.StudyInstanceUID))
        .select_related("patient")
        .first()
    )
    if study is None:
        return None
    if study.patient.patient_id != str(header.get("PatientID", "")):
        return ("patient_mismatch", "this study is already stored under another patient ID")
    if series and series.study.study_instance_uid != str(header.StudyInstanceUID):
        return ("study_mismatch", "this series is already stored in another study")
    return None


def _reference_header(series: Series | None, actor) -> Dataset | None:
    if series is None:
        return None
    first = series.instances.first()
    if first is None:
        return None
    return access.instance_dataset(first, "ingest consistency check", actor=actor)


def _store(
    series_uid: str, images: list[PreparedImage], *, site, actor, report: IngestReport, fmt: str
) -> None:
    saved_paths: list[str] = []
    outcomes: list[FileOutcome] = []
    header = images[0].header
    try:
        with transaction.atomic():
            series = _series_row(header, site, fmt)
            for image in images:
                outcomes.append(_store_one(series, image, saved_paths))
            added = sum(1 for o in outcomes if o.status == Status.IMPORTED)
            if added:
                Series.objects.filter(pk=series.pk).update(
                    content_version=series.content_version + 1
                )
                series.refresh_from_db()
                _refresh_problem(series, images)
                record_event(
                    action="imaging.series.import",
                    actor=actor,
                    target=series,
                    new={"instances_added": added, "format": fmt},
                )
    except Exception:
        _delete_files(saved_paths)
        logger.exception("storing series %s failed", "(uid withheld)")
        report.files.extend(
            rejected(i.origin, "storage_failed", "the image could not be stored; try again")
            for i in images
        )
        return
    drop_cached_volumes(series)
    report.files.extend(outcomes)
    report.series[series_uid] = {
        "id": series.pk,
        "series_uid": series_uid,
        "instances": series.instances.count(),
        "problem_code": series.problem_code,
        "problem": series.problem,
        "orientation_established": series.orientation_established,
    }


def _series_row(header: Dataset, site, fmt: str) -> Series:
    patient, _ = Patient.objects.get_or_create(
        site=site,
        patient_id=str(header.get("PatientID", "")),
        issuer=str(header.get("IssuerOfPatientID", "")),
        defaults={
            "name": str(header.get("PatientName", "")),
            "birth_date": str(header.get("PatientBirthDate", "")),
            "sex": str(header.get("PatientSex", "")),
        },
    )
    study, _ = Study.objects.get_or_create(
        site=site,
        study_instance_uid=str(header.StudyInstanceUID),
        defaults={
            "patient": patient,
            "study_date": str(header.get("StudyDate", "")),
            "study_time": str(header.get("StudyTime", ""))[:16],
            "accession_number": str(header.get("AccessionNumber", ""))[:16],
            "description": str(header.get("StudyDescription", ""))[:64],
        },
    )
    number = header.get("SeriesNumber")
    series, _ = Series.objects.get_or_create(
        site=site,
        series_instance_uid=str(header.SeriesInstanceUID),
        defaults={
            "study": study,
            "modality": str(header.get("Modality", ""))[:16],
            "description": str(header.get("SeriesDescription", ""))[:64],
            "series_number": int(number) if number not in (None, "") else None,
            "source_format": fmt,
        },
    )
    return series


def _store_one(series: Series, image: PreparedImage, saved_paths: list[str]) -> FileOutcome:
    header = image.header
    number = header.get("InstanceNumber")
    try:
        with transaction.atomic():
            instance = Instance(
                site_id=series.site_id,
                series=series,
                sop_instance_uid=image.sop_instance_uid,
                sop_class_uid=str(header.SOPClassUID),
                transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
                instance_number=int(number) if number not in (None, "") else None,
                number_of_frames=int(header.get("NumberOfFrames") or 1),
                rows=int(header.Rows),
                columns=int(header.Columns),
                sha256=image.sha256,
                size=len(image.data),
            )
            _save_whole(instance, image.data)
            saved_paths.append(instance.file.name)
            instance.save()
    except (IntegrityError, ValueError, TypeError):
        if instance.file.name in saved_paths:
            _delete_files([instance.file.name])
            saved_paths.remove(instance.file.name)
        return _uid_conflict(image.origin)
    return FileOutcome(image.origin, Status.IMPORTED, "", "", series.series_instance_uid)


def _save_whole(instance: Instance, data: bytes) -> None:
    """Write the instance's file; a write that fails part-way (the disk is full) leaves no
    partial file behind -- the storage neither removes it nor tells us its name."""
    target = instance.file.field.generate_filename(instance, "image.dcm")
    existed = default_storage.exists(target)
    try:
        instance.file.save("image.dcm", ContentFile(data), save=False)
    except OSError:
        if not existed and default_storage.exists(target):
            default_storage.delete(target)
        raise


def _refresh_problem(series: Series, new_images: list[PreparedImage]) -> None:
    """Check the whole series as one volume (and whether it establishes the patient
    orientation): new headers from memory, older ones from disk."""
    new_uids = {image.sop_instance_uid for image in new_images}
    older = list(series.instances.exclude(sop_instance_uid__in=new_uids))
    headers = access.read_series_files(older, headers_only=True)
    stored = set(series.instances.values_list("sop_instance_uid", flat=True))
    headers += [image.header for image in new_images if image.sop_instance_uid in stored]
    try:
        plan_series(headers)
        code, message = "", ""
    except ImagingError as error:
        code, message = error.code, error.message
    established = orientation_established(headers)
    Series.objects.filter(pk=series.pk).update(
        problem_code=code, problem=message, orientation_established=established
    )
    series.problem_code, series.problem = code, message
    series.orientation_established = established


def _delete_files(paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)


def _collapse_converted(report: IngestReport, converted: dict[str, int]) -> None:
    """One line per NIfTI/NRRD file instead of one per generated slice."""
    if not converted:
        return
    merged: dict[str, FileOutcome] = {}
    others = []
    for outcome in report.files:
        if outcome.name in converted:
            first = merged.setdefault(outcome.name, outcome)
            if outcome.status == Status.REJECTED and first.status != Status.REJECTED:
                merged[outcome.name] = outcome
        else:
            others.append(outcome)
    report.files = others + list(merged.values())
