"""A confirmed mask is checked against its signature from its stored bytes (issue 20, item 9):
a mask rewritten in the database fails verify_signature, audit_verify and every display, and
no export hands it out. Mask versions are append-only in the database like signatures."""
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from annotations import masks
from annotations.confirmation import do_confirm_result
from annotations.models import MaskVersion
from audit.signatures import verify_against_record, verify_signature
from audit.verify import verify_chain
from tests.conftest import PASSWORD


@pytest.fixture
def confirmed(ai_result, users):
    return do_confirm_result(users["annotator"], ai_result, 1, PASSWORD)


def rewrite_mask(version: MaskVersion, behind_the_triggers) -> None:
    """Someone with database access swaps the mask bytes and leaves the stored hash alone."""
    shrunk = np.zeros(tuple(version.shape), np.uint8)
    shrunk[:, 110:120, 100:110] = 1
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE annotations_maskversion SET data = %s WHERE id = %s",
                       [masks.encode(shrunk), version.pk])


def test_a_mask_rewritten_in_the_database_no_longer_verifies(confirmed, behind_the_triggers):
    version = MaskVersion.objects.get(pk=confirmed.final_version_id)
    assert verify_signature(confirmed.signature, version, version.content_sha256())
    rewrite_mask(version, behind_the_triggers)
    version.refresh_from_db()
    check = verify_signature(confirmed.signature, version, version.content_sha256())
    assert not check
    assert check.problem == "the content changed after it was signed"
    assert not verify_against_record(confirmed.signature)


def test_audit_verify_checks_every_signature_against_the_mask_bytes(
        confirmed, behind_the_triggers):
    assert verify_chain().intact
    rewrite_mask(confirmed.final_version, behind_the_triggers)
    report = verify_chain()
    assert not report.intact
    assert f"annotations.maskversion:{confirmed.final_version_id}" in report.bad_signatures[0]
    assert "the content changed after it was signed" in report.bad_signatures[0]
    with pytest.raises(CommandError, match="signatures do not verify"):
        call_command("audit_verify")


@pytest.mark.parametrize("export", ["nifti", "seg"])
def test_an_export_of_a_rewritten_mask_is_refused_with_the_reason(
        confirmed, behind_the_triggers, api_as, export):
    client = api_as("annotator")
    url = (f"/api/v1/exports/results/{confirmed.pk}/nifti" if export == "nifti"
           else "/api/v1/exports/seg")
    rewrite_mask(confirmed.final_version, behind_the_triggers)
    response = client.post(url, {"results": [confirmed.pk]}, format="json")
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "does not verify against the signature of Dr. Annotator Owner" in detail
    assert "the content changed after it was signed" in detail


def test_the_result_page_flags_the_rewritten_mask(confirmed, behind_the_triggers, browser_as):
    client = browser_as("annotator")
    assert "does not verify" not in client.get(f"/annotations/results/{confirmed.pk}/").text
    rewrite_mask(confirmed.final_version, behind_the_triggers)
    page = client.get(f"/annotations/results/{confirmed.pk}/").text
    assert "does not verify: the content changed after it was signed" in page


@pytest.mark.parametrize("sql", ["UPDATE annotations_maskversion SET data = %s",
                                 "DELETE FROM annotations_maskversion"])
def test_the_database_refuses_to_change_or_remove_a_mask_version(confirmed, sql):
    params = [masks.encode(np.zeros((3, 256, 256), np.uint8))] if "UPDATE" in sql else []
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    version = MaskVersion.objects.get(pk=confirmed.final_version_id)
    assert version.content_sha256() == version.sha256
