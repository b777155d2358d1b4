"""Prepare the stack's database from a new process (``python -m tests.deploy.seed_stack``):
migrate, roles, two users, the prompt library and two CT series from the real head CT; then
submit one job to the gpu queue. Prints what the test needs as JSON.

No engine on this machine is served by the gpu queue (MedSAM-2 needs a GPU), so the gpu job
is submitted with the engine routed there, standing in for a MedSAM-2 job: everything after
the routing decision (broker, worker binding, claim, result) is the real path.
"""
import io
import json

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

PASSWORD = "stack test password 9"


def main() -> dict:
    call_command("migrate", verbosity=0)
    from accounts.management.commands.seed_roles import seed_roles
    from accounts.models import Site, User
    from annotations import actions
    from imaging.actions import do_ingest
    from imaging.models import Series
    from prompts.actions.exchange import do_load_library
    from prompts.models import PromptVersion, VersionState
    from prompts.source import read_library
    from tests.backend.annotations.conftest import FIRST_SLICE, ct_files
    from tests.model.head_ct import CRANIUM, box_of, brain_mask, load_head_ct

    seed_roles()
    site = Site.objects.create(code="home", name="Home Hospital")
    users = {}
    for name, role in (("annotator", "annotator"), ("admin", "site_admin")):
        users[name] = User.objects.create_user(
            username=name, password=PASSWORD, site=site, printed_name=f"Dr. {name.title()}"
        )
        users[name].groups.set(Group.objects.filter(name=role))
    entries, problems = read_library()
    assert not problems, problems
    do_load_library(site, entries)
    version = PromptVersion.objects.get(
        state=VersionState.APPROVED, entry__site=site, entry__key="brain-ct"
    )
    head = load_head_ct(CRANIUM)
    series = {}
    for patient, count in (("STACK-GPU", 2), ("STACK-CPU", 10)):
        hu = head.hu[FIRST_SLICE:FIRST_SLICE + count]
        files = ct_files(hu, head.spacing_zyx, patient)
        do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=site,
                  actor=users["annotator"])
        key = count // 2
        series[patient] = {
            "id": Series.objects.get(study__patient__patient_id=patient).pk,
            "key": key,
            "box": [float(v) for v in box_of(brain_mask(hu[key]))],
        }
    gpu = series["STACK-GPU"]
    actions.engine_queue = lambda engine: "gpu"
    job, _ = actions.do_submit_job(
        users["annotator"], Series.objects.get(pk=gpu["id"]), version,
        {"prompts": [{"slice": gpu["key"], "box": gpu["box"]}]},
    )
    return {"password": PASSWORD, "prompt_version": version.pk, "series": series,
            "gpu_job": str(job.public_id)}


if __name__ == "__main__":
    print("SEED " + json.dumps(main()))
