"""Searching and importing studies from a PACS over DICOMweb (QIDO-RS, WADO-RS).

The PACS root URL comes from the setting ``IMAGING_PACS_URL`` or env ``MEDSAM_PACS_URL``.
"""

import io
import os

import requests
from dicomweb_client.api import DICOMwebClient
from django.conf import settings
from rest_framework.exceptions import APIException

from model.imaging import to_part10_bytes

from . import access
from .actions import do_ingest
from .models import SourceFormat
from .outcomes import IngestReport

SEARCH_KEYS = ("PatientID", "PatientName", "StudyDate", "AccessionNumber", "StudyInstanceUID")
_STUDY_FIELDS = {
    "0020000D": "study_uid",
    "00100020": "patient_id",
    "00100010": "patient_name",
    "00080020": "study_date",
    "00080050": "accession_number",
    "00081030": "description",
    "00080061": "modalities",
}


class PacsUnavailable(APIException):
    status_code = 502
    default_detail = "The PACS did not answer; check its address and that it is running."
    default_code = "pacs_unavailable"


def pacs_url() -> str:
    url = getattr(settings, "IMAGING_PACS_URL", None) or os.environ.get("MEDSAM_PACS_URL", "")
    if not url:
        raise PacsUnavailable("No PACS is connected at this site; ask your site administrator "
                              "to connect one.")
    return url


def _client() -> DICOMwebClient:
    return DICOMwebClient(url=pacs_url())


def search_studies(filters: dict[str, str], *, actor=None) -> list[dict]:
    try:
        found = _client().search_for_studies(search_filters=filters, get_remaining=True)
    except (requests.RequestException, OSError) as exc:
        raise PacsUnavailable() from exc
    access.record_read(None, "pacs search", actor=actor, count=len(found))
    return [_study_summary(item) for item in found]


def _study_summary(item: dict) -> dict:
    summary = {}
    for tag, key in _STUDY_FIELDS.items():
        values = item.get(tag, {}).get("Value", [])
        if key == "patient_name":
            values = [v.get("Alphabetic", "") if isinstance(v, dict) else v for v in values]
        summary[key] = values if key == "modalities" else (str(values[0]) if values else "")
    return summary


def import_study(study_uid: str, *, site, actor=None) -> IngestReport:
    try:
        datasets = _client().retrieve_study(study_uid)
    except (requests.RequestException, OSError) as exc:
        raise PacsUnavailable() from exc
    payloads = [to_part10_bytes(ds) for ds in datasets]
    return do_ingest(
        (
            (f"pacs/{ds.SOPInstanceUID}.dcm", io.BytesIO(data), len(data))
            for ds, data in zip(datasets, payloads, strict=True)
        ),
        site=site,
        actor=actor,
        source_format=SourceFormat.PACS,
    )
