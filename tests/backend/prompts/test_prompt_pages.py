"""The server-rendered administration pages, driven as a user would."""
import copy
import re

import pytest

from prompts.actions import do_create_draft, do_load_library, do_submit, do_update_draft
from prompts.models import PromptVersion
from prompts.source import dump_yaml, read_library
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(sites):
    entries, _ = read_library()
    do_load_library(sites["home"], {k: v for k, v in entries.items() if "kidney" in k})
    return entries


def active(key):
    return PromptVersion.objects.get(entry__key=key, state="approved")


def test_the_library_page_lists_entries_and_resolves_typed_text(browser_as, library):
    page = browser_as("annotator").get("/prompts/", {"q": "kidney left", "modality": "CT"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Right kidney" in html and "Kidney tumour" in html
    matches = re.search(r'<ul class="matches">(.*?)</ul>', html, re.S).group(1)
    assert "Left kidney" in matches and "Right kidney" not in matches


def test_an_administrator_edits_a_draft_and_another_approves_it_in_the_browser(
        browser_as, users, library):
    v1 = active("kidney-left-ct")
    author = browser_as("prompt_admin")
    response = author.post(f"/prompts/versions/{v1.pk}/new-draft/")
    draft = PromptVersion.objects.get(entry__key="kidney-left-ct", state="draft")
    assert response.url == f"/prompts/versions/{draft.pk}/"
    content = copy.deepcopy(draft.content)
    content["display"]["colour"] = "#00ff00"
    bad = author.post(f"/prompts/versions/{draft.pk}/edit/", {"yaml": "colour: [\n"})
    assert "not valid YAML" in bad.content.decode()
    author.post(f"/prompts/versions/{draft.pk}/edit/", {"yaml": dump_yaml(content)})
    author.post(f"/prompts/versions/{draft.pk}/submit/")
    own = author.post(f"/prompts/versions/{draft.pk}/approve/", {"password": PASSWORD},
                      follow=True)
    assert "two-person rule" in own.content.decode()
    approver = browser_as("prompt_admin_member")
    approver.post(f"/prompts/versions/{draft.pk}/approve/", {"password": PASSWORD})
    page = approver.get(f"/prompts/versions/{draft.pk}/").content.decode()
    assert "Electronically signed by <strong>Dr. Prompt Admin Member</strong>" in page
    diff = approver.get("/prompts/diff/", {"a": v1.pk, "b": draft.pk}).content.decode()
    assert "display.colour" in diff and "#00ff00" in diff


def test_the_review_page_offers_approve_and_reject_only_to_administrators(
        browser_as, users, library):
    author = users["prompt_admin"]
    draft = do_create_draft(author, active("kidney-right-ct"))
    content = copy.deepcopy(draft.content)
    content["qa"]["sampling_rate"] = 0.3
    draft = do_submit(author, do_update_draft(author, draft, content))
    assert "Sign and approve" in browser_as("prompt_admin_member").get(
        f"/prompts/versions/{draft.pk}/").content.decode()
    page = browser_as("annotator").get(f"/prompts/versions/{draft.pk}/")
    assert page.status_code == 200 and "Sign and approve" not in page.content.decode()
    assert browser_as("annotator").post(
        f"/prompts/versions/{draft.pk}/reject/", {"reason": "x"}).status_code == 403


def test_exchange_exports_and_previews_an_import(browser_as, library):
    admin = browser_as("prompt_admin")
    bundle = admin.post("/prompts/exchange/", {"step": "export", "keys": ["kidney-left-ct"]})
    assert bundle["Content-Disposition"].startswith("attachment;")
    preview = admin.post("/prompts/exchange/", {"step": "preview",
                                                "raw": bundle.content.decode()})
    assert "identical" in preview.content.decode()
    tampered = bundle.content.decode().replace('"level": 40', '"level": 45', 1)
    refused = admin.post("/prompts/exchange/", {"step": "preview", "raw": tampered})
    assert "altered after export" in refused.content.decode()


def test_submitting_an_unchanged_draft_shows_which_version_it_repeats(browser_as, library):
    author = browser_as("prompt_admin")
    author.post(f"/prompts/versions/{active('kidney-left-ct').pk}/new-draft/")
    draft = PromptVersion.objects.get(entry__key="kidney-left-ct", state="draft")
    warned = "the same content as v1, the active version"
    assert warned in author.get(f"/prompts/versions/{draft.pk}/").content.decode()
    page = author.post(f"/prompts/versions/{draft.pk}/submit/", follow=True)
    assert page.redirect_chain[-1][0] == f"/prompts/versions/{draft.pk}/"
    assert "kidney-left-ct v2 is identical to version 1, the active version" in (
        page.content.decode())
    draft.refresh_from_db()
    assert draft.state == "draft"
    content = copy.deepcopy(draft.content)
    content["qa"]["sampling_rate"] = 0.3
    author.post(f"/prompts/versions/{draft.pk}/edit/", {"yaml": dump_yaml(content)})
    assert warned not in author.get(f"/prompts/versions/{draft.pk}/").content.decode()


def test_the_author_is_told_the_two_person_rule_and_the_reviewer_sees_the_change(
        browser_as, users, library):
    author = users["prompt_admin"]
    v1 = active("kidney-right-ct")
    draft = do_create_draft(author, v1)
    content = copy.deepcopy(draft.content)
    content["qa"]["sampling_rate"] = 0.3
    draft = do_submit(author, do_update_draft(author, draft, content))

    own = browser_as("prompt_admin").get(f"/prompts/versions/{draft.pk}/").content.decode()
    assert "Sign and approve" not in own and 'type="password"' not in own
    assert "another prompt administrator must review and approve it" in own

    page = browser_as("prompt_admin_member").get(f"/prompts/versions/{draft.pk}/").content
    changes = re.search(r'id="changes-from-active">(.*?)</section>', page.decode(), re.S)
    assert changes, page
    assert f"v{v1.number}" in changes.group(1)
    assert "qa.sampling_rate" in changes.group(1) and "0.3" in changes.group(1)
    assert f"?a={v1.pk}&amp;b={draft.pk}" in changes.group(1)
    # An approved version is not compared with itself.
    shown = browser_as("prompt_admin_member").get(f"/prompts/versions/{v1.pk}/").content
    assert b'id="changes-from-active"' not in shown
