"""Sending SEG objects to the PACS (STOW-RS) and fetching one back (WADO-RS), with the PACS
configured for imaging (``imaging.pacs.pacs_url``)."""
from __future__ import annotations

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from imaging.pacs import PacsUnavailable, pacs_url

NO_PACS_MESSAGE = ("No PACS is connected at this site; ask your site administrator to connect "
                   "one. The SEG can still be downloaded.")


class PacsRefused(PacsUnavailable):
    default_detail = "The PACS refused the object."
    default_code = "pacs_refused"


class PacsNotConfigured(PacsUnavailable):
    """No PACS at this site: a 502 (as for an unreachable PACS) in the user's words (the
    setting is the operator's)."""

    default_detail = NO_PACS_MESSAGE
    default_code = "pacs_not_configured"


def pacs_configured() -> bool:
    """Whether this site has a PACS to send to (pages hide the PACS buttons without one)."""
    try:
        pacs_url()
    except PacsUnavailable:
        return False
    return True


def site_pacs_url() -> str:
    """The PACS root URL; PacsNotConfigured (user wording) when there is none."""
    try:
        return pacs_url()
    except PacsUnavailable:
        raise PacsNotConfigured() from None


def _client() -> DICOMwebClient:
    return DICOMwebClient(url=site_pacs_url())


def store(dataset: Dataset) -> str:
    """STOW-RS ``dataset``; returns the PACS URL. Raises PacsNotConfigured, PacsUnavailable or
    PacsRefused."""
    url = site_pacs_url()
    try:
        response = _client().store_instances([dataset])
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise PacsRefused(f"The PACS refused the SEG (HTTP {status}).") from exc
    except (requests.RequestException, OSError) as exc:
        raise PacsUnavailable() from exc
    failed = response.get("00081198", {}).get("Value", []) if response else []
    if failed:
        raise PacsRefused("The PACS refused the SEG (it listed it as a failed SOP instance).")
    return url


def fetch(study_uid: str, series_uid: str, sop_uid: str) -> Dataset:
    """WADO-RS one instance; raises PacsUnavailable (also when it is not there)."""
    try:
        return _client().retrieve_instance(study_uid, series_uid, sop_uid)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise PacsUnavailable(
            f"The PACS has no such instance (HTTP {status}); check the UIDs."
        ) from exc
    except (requests.RequestException, OSError) as exc:
        raise PacsUnavailable() from exc
