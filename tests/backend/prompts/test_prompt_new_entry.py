"""The administration page for a new entry, driven as a prompt administrator would: the entry
and its first draft are created through the same action as the API, and a refused input
writes nothing."""
import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry
from prompts.actions import do_create_entry, do_load_library
from prompts.forms import NewEntryForm, protocol_template
from prompts.models import PromptEntry, PromptTransition, PromptVersion
from prompts.source import read_library, validate_entry

pytestmark = pytest.mark.django_db
PAGE = "/prompts/new-entry/"


@pytest.fixture
def library(sites):
    entries, _ = read_library()
    do_load_library(sites["home"], {k: v for k, v in entries.items() if "kidney" in k})


def skull(user, **changes):
    """The form as an administrator fills it in for the skull on CT."""
    fields = {
        "key": "skull-ct", "name": "Skull", "modality": "CT", "category": "123037004",
        "type_code": "89546000", "type_scheme": "SCT", "type_meaning": "Skull",
        "laterality": "", "region_code": "", "region_meaning": "",
        "synonyms": "skull, cranium", "protocol": protocol_template(user),
    }
    fields.update(changes)
    return fields


def written():
    return (PromptEntry.objects.count(), PromptVersion.objects.count(),
            PromptTransition.objects.count(), AuditEntry.objects.count())


def test_it_creates_the_entry_and_its_first_draft_with_an_audit_entry(
        browser_as, users, library):
    admin = browser_as("prompt_admin")
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert "Dr. Prompt Admin Owner" in page.content.decode()  # the protocol's author
    response = admin.post(PAGE, skull(users["prompt_admin"]))
    version = PromptVersion.objects.get(entry__key="skull-ct")
    assert response.status_code == 302 and response.url == f"/prompts/versions/{version.pk}/"
    entry = version.entry
    assert (entry.site, entry.name, entry.modality) == (users["prompt_admin"].site, "Skull", "CT")
    assert (version.number, version.state, version.origin, version.author) == (
        1, "draft", "edit", users["prompt_admin"])
    assert version.content["structure"] == {
        "category": {"code": "123037004", "scheme": "SCT", "meaning": "Anatomical Structure"},
        "type": {"code": "89546000", "scheme": "SCT", "meaning": "Skull"},
        "laterality": None,
    }
    assert version.content["synonyms"] == ["skull", "cranium"]
    assert validate_entry(version.content, "stored") == []
    assert [(t.from_state, t.to_state) for t in version.transitions.all()] == [("", "draft")]
    created = AuditEntry.objects.get(action="prompt.entry.create")
    assert (created.actor_id, created.object_type, created.object_id) == (
        users["prompt_admin"].pk, "prompts.promptversion", str(version.pk))
    assert created.new_values == {"state": "draft"}
    assert created.versions["prompt_version"] == "skull-ct v1"
    shown = admin.get(response.url).content.decode()
    assert "Created skull-ct v1 as a draft" in shown and "Submit for review" in shown


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"type_code": ""}, "type_code", "Give the structure&#x27;s SNOMED CT code"),
    ({"key": "Skull CT"}, "key", "does not match"),
    ({"type_meaning": "Kidney"}, "type_meaning", "does not match code 89546000"),
    ({"type_code": "89546001"}, "type_code", "wrong check digit"),
    ({"type_scheme": "SRT"}, "type_scheme", "coding scheme must be &#x27;SCT&#x27;"),
    ({"key": "kidney-left-ct"}, "key", "already exists in Home Hospital&#x27;s library"),
    ({"type_code": "64033007", "type_meaning": "Kidney"}, "laterality",
     "is a paired structure"),
    ({"protocol": "image: [\n"}, "protocol", "not valid YAML"),
    ({"protocol": "key: skull-ct\n"}, "protocol", "Remove key from the protocol"),
    ({"region_code": "12738006"}, "region_code", "code and meaning, or neither"),
])
def test_malformed_input_is_refused_on_its_field_and_writes_nothing(
        browser_as, users, library, changes, field, says):
    before = written()
    page = browser_as("prompt_admin").post(PAGE, skull(users["prompt_admin"], **changes))
    assert page.status_code == 200
    html = page.content.decode()
    errors = html.split(f'id="errors-{field}">', 1)
    assert len(errors) == 2, f"no error shown on {field}"
    assert says in errors[1].split("</span>", 1)[0]
    assert written() == before


def test_a_protocol_problem_is_shown_with_its_field(browser_as, users, library):
    protocol = protocol_template(users["prompt_admin"]).replace('colour: "#1f77b4"',
                                                                'colour: "blue"')
    before = written()
    page = browser_as("prompt_admin").post(PAGE, skull(users["prompt_admin"], protocol=protocol))
    assert "display.colour: &#x27;blue&#x27; does not match" in page.content.decode()
    assert written() == before


@pytest.mark.parametrize("who", ["annotator", "reviewer", "auditor", "site_admin", "norole"])
def test_only_prompt_administrators_reach_the_page(browser_as, users, library, who):
    client = browser_as(who)
    before = written()
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, skull(users["prompt_admin"])).status_code == 403
    assert written() == before
    assert "New entry" not in client.get("/prompts/").content.decode()


def test_another_sites_administrator_cannot_add_to_this_sites_library(
        browser_as, users, sites, library):
    outsider = users["prompt_admin_outsider"]
    with pytest.raises(PermissionDenied):
        do_create_entry(outsider, sites["home"], {"key": "x"})
    browser_as("prompt_admin_outsider").post(PAGE, skull(outsider))
    assert list(PromptEntry.objects.filter(key="skull-ct").values_list("site__code", flat=True)
                ) == ["other"]
    assert not PromptEntry.objects.filter(site=sites["home"], key="skull-ct").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response.url


def test_the_form_builds_the_same_document_the_api_accepts(api_as, users, library):
    form = NewEntryForm(skull(users["prompt_admin"], key="skull-ct"))
    assert form.is_valid(), form.errors
    response = api_as("prompt_admin").post("/api/v1/prompts/entries/",
                                           {"content": form.document()}, format="json")
    assert response.status_code == 201, response.json()
    again = api_as("prompt_admin").post("/api/v1/prompts/entries/",
                                        {"content": form.document()}, format="json")
    assert again.status_code == 400 and "already exists" in str(again.json())
