"""The library over HTTP: reads for every signed-in user, writes for prompt administrators."""
import copy

import pytest

from prompts.actions import do_load_library
from prompts.actions.versions import transition
from prompts.models import PromptVersion
from prompts.source import dump_yaml, read_library
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
API = "/api/v1/prompts/"


@pytest.fixture
def library(sites):
    entries, _ = read_library()
    do_load_library(sites["home"], entries)
    return entries


def version_id(key):
    return PromptVersion.objects.get(entry__key=key, state="approved").pk


def test_it_lists_the_sites_entries_for_any_signed_in_user(api_as, library):
    response = api_as("annotator").get(API + "entries/", {"modality": "OP"})
    assert response.status_code == 200
    assert {e["key"] for e in response.json()} == {"optic-disc-op", "optic-cup-op"}
    assert response.json()[0]["active_version"]["state"] == "approved"
    assert api_as("annotator_outsider").get(API + "entries/").json() == []
    assert api_as(None).get(API + "entries/").status_code == 403


def test_it_resolves_typed_text_to_approved_entries_of_the_modality(api_as, library):
    response = api_as("annotator").get(API + "resolve/", {"q": "L kidney", "modality": "CT"})
    rows = response.json()
    assert rows[0]["key"] == "kidney-left-ct"
    assert rows[0]["version_id"] == version_id("kidney-left-ct")
    assert rows[0]["interaction"]["tool"] == "box"
    assert "kidney-right-ct" not in {r["key"] for r in rows}
    assert api_as("annotator").get(API + "resolve/", {"q": "liver", "modality": "MR"}).json() == []
    assert api_as("annotator").get(API + "resolve/", {"q": "liver"}).status_code == 400


def test_a_prompt_administrator_edits_submits_and_another_approves(api_as, library):
    author, approver = api_as("prompt_admin"), api_as("prompt_admin_member")
    v1 = version_id("spleen-ct")
    draft = author.post(f"{API}versions/{v1}/edit/").json()
    content = copy.deepcopy(draft["content"])
    content["qa"]["sampling_rate"] = 0.5
    response = author.put(f"{API}versions/{draft['id']}/content/", {"yaml": dump_yaml(content)},
                          format="json")
    assert response.status_code == 200, response.json()
    assert author.post(f"{API}versions/{draft['id']}/submit/").json()["state"] == "in_review"
    refused = author.post(f"{API}versions/{draft['id']}/approve/", {"password": PASSWORD})
    assert refused.status_code == 400
    assert "two-person rule" in str(refused.json())
    wrong = approver.post(f"{API}versions/{draft['id']}/approve/", {"password": "nope"})
    assert wrong.status_code == 400
    approved = approver.post(f"{API}versions/{draft['id']}/approve/",
                             {"password": PASSWORD, "reason": "agreed"}).json()
    assert approved["state"] == "approved"
    assert "Dr. Prompt Admin Member" in approved["signature"]
    diff = author.get(f"{API}versions/diff/", {"a": v1, "b": draft["id"]}).json()
    assert [c["field"] for c in diff["changes"]] == ["qa.sampling_rate"]
    assert any(r["kind"] == "replace" for r in diff["side_by_side"])


def test_a_malformed_draft_is_refused_with_file_and_field(api_as, library):
    author = api_as("prompt_admin")
    draft = author.post(f"{API}versions/{version_id('liver-ct')}/edit/").json()
    content = copy.deepcopy(draft["content"])
    content["display"]["colour"] = "blue"
    response = author.put(f"{API}versions/{draft['id']}/content/", {"content": content},
                          format="json")
    assert response.status_code == 400
    assert "display.colour" in str(response.json())
    broken = author.put(f"{API}versions/{draft['id']}/content/", {"yaml": "key: [\n"},
                        format="json")
    assert broken.status_code == 400 and "line" in str(broken.json())


def test_an_approved_version_cannot_be_changed_over_the_api(api_as, library):
    v1 = version_id("liver-ct")
    content = PromptVersion.objects.get(pk=v1).content
    response = api_as("prompt_admin").put(f"{API}versions/{v1}/content/", {"content": content},
                                          format="json")
    assert response.status_code == 400
    assert "only a draft can be edited" in str(response.json())


@pytest.mark.parametrize("who", ["annotator", "reviewer", "auditor", "site_admin"])
def test_only_prompt_administrators_write(api_as, library, who):
    client = api_as(who)
    v1 = version_id("liver-ct")
    assert client.post(f"{API}versions/{v1}/edit/").status_code == 403
    assert client.post(f"{API}versions/{v1}/retire/", {"reason": "x"}).status_code == 403
    assert client.post(API + "export/").status_code == 403


def test_retire_needs_a_reason(api_as, library):
    v1 = version_id("liver-ct")
    assert api_as("prompt_admin").post(f"{API}versions/{v1}/retire/", {}).status_code == 400
    response = api_as("prompt_admin").post(f"{API}versions/{v1}/retire/", {"reason": "obsolete"})
    assert response.json()["state"] == "retired"


def test_an_unchanged_draft_is_refused_at_submission_with_the_version_it_repeats(
        api_as, library):
    author = api_as("prompt_admin")
    draft = author.post(f"{API}versions/{version_id('liver-ct')}/edit/").json()
    refused = author.post(f"{API}versions/{draft['id']}/submit/")
    assert refused.status_code == 400
    assert "liver-ct v2 is identical to version 1, the active version" in str(refused.json())
    assert PromptVersion.objects.get(pk=draft["id"]).state == "draft"


def test_approving_content_identical_to_the_active_version_is_refused(api_as, users, library):
    author = api_as("prompt_admin")
    draft = author.post(f"{API}versions/{version_id('liver-ct')}/edit/").json()
    transition(PromptVersion.objects.get(pk=draft["id"]), "in_review", users["prompt_admin"])
    refused = api_as("prompt_admin_member").post(f"{API}versions/{draft['id']}/approve/",
                                                 {"password": PASSWORD})
    assert refused.status_code == 400
    assert "identical to version 1" in str(refused.json())
    assert PromptVersion.objects.get(pk=draft["id"]).state == "in_review"
