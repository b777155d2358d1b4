"""Exchange between hospitals: export here, import into a second, separate database, approve
there, export again -- the content arrives unchanged and an altered bundle is refused."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prompts.actions import (
    PromptActionRefused,
    do_export_bundle,
    do_import_bundle,
    do_load_library,
    preview_import,
)
from prompts.bundle import dumps
from prompts.models import PromptVersion
from prompts.source import read_library

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
KEYS = ["kidney-left-ct", "liver-ct", "optic-disc-op"]

# Runs in the second hospital's own database: two prompt administrators import the bundle,
# one submits, the other approves, and the site exports its library again.
SECOND_SITE = """
import sys
from django.contrib.auth.models import Group
from accounts.management.commands.seed_roles import seed_roles
from accounts.models import Site, User
from prompts import actions
from prompts.bundle import dumps
from prompts.models import PromptVersion

seed_roles()
site = Site.objects.create(code="second", name="Second Hospital")
admins = []
for name in ("importer", "checker"):
    user = User.objects.create_user(name, password="pw-" + name + "-123", site=site,
                                    printed_name="Dr. " + name.title())
    user.groups.set(Group.objects.filter(name="prompt_admin"))
    admins.append(user)
raw = open(sys.argv[1], "rb").read()
drafts = actions.do_import_bundle(admins[0], site, raw, "from-home.json")
assert {d.state for d in drafts} == {"draft"}, drafts
for draft in drafts:
    actions.do_submit(admins[0], draft)
    actions.do_approve(admins[1], draft, password="pw-checker-123")
open(sys.argv[2], "w").write(dumps(actions.do_export_bundle(admins[1], site)))
print(PromptVersion.objects.filter(state="approved").count())
"""


def second_database(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'second.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("MEDSAM_TEST_DB_NAME", None)
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def home_library(sites):
    entries, _ = read_library()
    do_load_library(sites["home"], {f"{k}.yaml": entries[f"{k}.yaml"] for k in KEYS})
    return entries


def test_bundle_round_trip_between_two_databases(tmp_path, users, home_library):
    bundle = do_export_bundle(users["prompt_admin"], users["prompt_admin"].site, KEYS)
    sent = tmp_path / "from-home.json"
    sent.write_text(dumps(bundle), encoding="utf-8")
    assert second_database(tmp_path, "migrate", "-v0").returncode == 0

    tampered = copy.deepcopy(bundle)
    tampered["items"][0]["content"]["engine"]["name"] = "litemedsam-int8"
    altered = tmp_path / "altered.json"
    altered.write_text(dumps(tampered), encoding="utf-8")
    refused = second_database(tmp_path, "prompt_library", "import", "--user", "nobody",
                              str(altered))
    assert refused.returncode != 0  # no user yet: refused before reading anything

    script = tmp_path / "second_site.py"
    script.write_text(SECOND_SITE, encoding="utf-8")
    returned = tmp_path / "from-second.json"
    run = second_database(tmp_path, "shell", "-c",
                          f"import sys; sys.argv = ['x', {str(sent)!r}, {str(returned)!r}]; "
                          f"exec(open({str(script)!r}).read())")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == str(len(KEYS))

    back = json.loads(returned.read_text(encoding="utf-8"))
    assert back["source_site"]["code"] == "second"
    sent_hashes = {i["key"]: i["content_sha256"] for i in bundle["items"]}
    assert {i["key"]: i["content_sha256"] for i in back["items"]} == sent_hashes
    approval = back["items"][0]["approval"]
    assert approval["origin"] == "import"
    assert approval["author"] == "Dr. Importer" and approval["approved_by"] == "Dr. Checker"
    assert "approved" in approval["signature"]

    check = second_database(tmp_path, "prompt_library", "import", "--user", "checker",
                            str(altered))
    assert check.returncode != 0
    assert "content_sha256" in check.stderr and "altered after export" in check.stderr


def test_import_shows_differences_and_creates_only_drafts(users, sites, home_library):
    bundle = do_export_bundle(users["prompt_admin"], sites["home"], KEYS)
    outsider = users["prompt_admin_outsider"]
    local = copy.deepcopy(home_library["liver-ct.yaml"])
    local["image"]["window"]["width"] = 350
    do_load_library(sites["other"], {"liver-ct.yaml": local,
                                     "kidney-left-ct.yaml": home_library["kidney-left-ct.yaml"]})
    _header, lines = preview_import(sites["other"], dumps(bundle))
    status = {line.key: line.status for line in lines}
    assert status == {"kidney-left-ct": "identical", "liver-ct": "changed",
                      "optic-disc-op": "new"}
    liver = next(line for line in lines if line.key == "liver-ct")
    assert liver.changes == [{"field": "image.window.width", "kind": "changed",
                              "old": 350, "new": 400}]
    drafts = do_import_bundle(outsider, sites["other"], dumps(bundle), "home.json")
    assert sorted((d.entry.key, d.state, d.origin) for d in drafts) == [
        ("liver-ct", "draft", "import"), ("optic-disc-op", "draft", "import")]
    assert drafts[0].import_record["source_site"]["code"] == "home"
    active = PromptVersion.objects.get(entry__site=sites["other"], entry__key="liver-ct",
                                       state="approved")
    assert active.content["image"]["window"]["width"] == 350  # nothing live changed


def test_a_tampered_bundle_changes_nothing(users, sites, home_library):
    bundle = json.loads(dumps(do_export_bundle(users["prompt_admin"], sites["home"], KEYS)))
    bundle["items"][2]["content"]["interaction"]["tolerance"]["value"] = 40
    before = PromptVersion.objects.count()
    with pytest.raises(PromptActionRefused) as refused:
        do_import_bundle(users["prompt_admin_outsider"], sites["other"], json.dumps(bundle))
    assert any("optic-disc-op" in m and "content_sha256" in m for m in refused.value.messages)
    assert PromptVersion.objects.count() == before


def test_an_import_over_an_open_draft_is_refused_whole(users, sites, home_library):
    from prompts.actions import do_create_draft

    bundle = dumps(do_export_bundle(users["prompt_admin"], sites["home"], KEYS))
    changed = copy.deepcopy(home_library["liver-ct.yaml"])
    changed["qa"]["sampling_rate"] = 0.9
    do_load_library(sites["other"], {"liver-ct.yaml": changed})
    active = PromptVersion.objects.get(entry__site=sites["other"], state="approved")
    do_create_draft(users["prompt_admin_outsider"], active)
    before = PromptVersion.objects.count()
    with pytest.raises(PromptActionRefused, match="finish it first"):
        do_import_bundle(users["prompt_admin_outsider"], sites["other"], bundle)
    assert PromptVersion.objects.count() == before
