"""Editing, confirming and rejecting results: versions, signatures, states, audit."""
import base64

import numpy as np
import pytest

from annotations import masks
from annotations.models import MaskVersion
from audit.models import AuditEntry, Signature
from audit.signatures import verify_signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def url(result, what=""):
    return f"/api/v1/annotations/results/{result.pk}{'/' + what if what else ''}"


def edited_mask(result):
    mask = masks.decode(result.latest_mask().data, tuple(result.latest_mask().shape)).copy()
    mask[1, 140:150, 90:150] = 1
    return mask


def send_edit(client, result, mask, base=1, note="extended the lower edge"):
    return client.post(url(result, "versions"), {
        "base_version": base, "data": base64.b64encode(masks.encode(mask)).decode(),
        "note": note}, format="json")


def test_an_edit_becomes_a_new_version_and_the_ai_original_stays(api_as, ai_result):
    client = api_as("annotator")
    mask = edited_mask(ai_result)
    response = send_edit(client, ai_result, mask)
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 2
    assert response.json()["created_by"] == "Dr. Annotator Owner"
    versions = MaskVersion.objects.filter(result=ai_result).order_by("number")
    assert [v.number for v in versions] == [1, 2]
    assert masks.decode(versions[0].data, (3, 256, 256)).sum() == 3 * 40 * 60
    assert versions[1].sha256 == masks.content_sha256(mask)
    body = client.get(url(ai_result)).json()
    assert body["state"] == "edited"
    assert AuditEntry.objects.filter(action="mask.edit").count() == 1


def test_an_edit_on_an_old_version_is_refused_with_409(api_as, ai_result):
    client = api_as("annotator")
    assert send_edit(client, ai_result, edited_mask(ai_result)).status_code == 201
    stale = send_edit(client, ai_result, edited_mask(ai_result) * 0, base=1)
    assert stale.status_code == 409
    assert "not the latest" in stale.json()["version"][0]
    assert MaskVersion.objects.filter(result=ai_result).count() == 2


def test_a_mask_of_the_wrong_shape_or_garbage_is_refused(api_as, ai_result):
    client = api_as("annotator")
    wrong = send_edit(client, ai_result, np.ones((3, 10, 10), np.uint8))
    assert wrong.status_code == 400
    garbage = client.post(url(ai_result, "versions"), {"base_version": 1, "data": "!!"},
                          format="json")
    assert garbage.status_code == 400
    assert garbage.json() == {"data": ["The mask data is not valid base64."]}
    assert MaskVersion.objects.filter(result=ai_result).count() == 1


def test_confirming_signs_the_exact_mask_version(api_as, ai_result, users):
    client = api_as("annotator")
    response = client.post(url(ai_result, "confirm"), {"version": 1, "password": PASSWORD},
                           format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "confirmed"
    assert body["final_version"] == 1
    assert body["signature"]["printed_name"] == "Dr. Annotator Owner"
    assert body["signature"]["meaning_display"] == "confirmed as accurate"
    signature = Signature.objects.get()
    version = ai_result.mask_versions.get(number=1)
    assert signature.content_sha256 == version.sha256
    assert verify_signature(signature, version, version.sha256).valid
    assert AuditEntry.objects.filter(action="result.confirm").count() == 1
    # A confirmed result is final: no more edits or decisions.
    assert send_edit(client, ai_result, edited_mask(ai_result)).status_code == 400
    again = client.post(url(ai_result, "reject"), {"version": 1, "password": PASSWORD,
                                                   "reason": "x"}, format="json")
    assert again.status_code == 400


def test_a_wrong_password_signs_nothing(api_as, ai_result):
    response = api_as("annotator").post(url(ai_result, "confirm"),
                                        {"version": 1, "password": "guess"}, format="json")
    assert response.status_code == 403
    assert "password" in response.json()
    assert not Signature.objects.exists()
    ai_result.refresh_from_db()
    assert ai_result.state == "ai_draft"


def test_confirming_an_outdated_version_is_refused(api_as, ai_result):
    client = api_as("annotator")
    send_edit(client, ai_result, edited_mask(ai_result))
    response = client.post(url(ai_result, "confirm"), {"version": 1, "password": PASSWORD},
                           format="json")
    assert response.status_code == 409
    assert not Signature.objects.exists()


def test_rejecting_needs_a_reason_and_is_signed(api_as, ai_result):
    client = api_as("annotator")
    missing = client.post(url(ai_result, "reject"), {"version": 1, "password": PASSWORD},
                          format="json")
    assert missing.status_code == 400
    assert missing.json() == {"reason": ["Say why the result is rejected."]}
    response = client.post(url(ai_result, "reject"),
                           {"version": 1, "password": PASSWORD, "reason": "leaks into the spleen"},
                           format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "rejected"
    assert body["signature"]["meaning"] == "rejected"
    assert body["signature"]["reason"] == "leaks into the spleen"
    assert body["transitions"][-1]["reason"] == "leaks into the spleen"


@pytest.mark.parametrize("role", ["reviewer", "prompt_admin", "auditor", "site_admin",
                                  "annotator_outsider"])
def test_only_annotators_of_the_site_confirm(api_as, ai_result, role):
    response = api_as(role).post(url(ai_result, "confirm"),
                                 {"version": 1, "password": PASSWORD}, format="json")
    assert response.status_code in (403, 404)
    assert not Signature.objects.exists()
