"""Seeds the load benchmark's private installation (run by load_api.py through manage.py shell):
roles, one annotator, the shipped prompt library, a real head CT series (Debian's
invesalius-examples) and an AI result on it. Prints what the load needs as one JSON line."""
import io
import json
import os

import numpy as np
from django.contrib.auth.models import Group

from accounts.management.commands.seed_roles import seed_roles
from accounts.models import Site, User
from annotations import masks
from annotations.actions import do_claim_job, do_submit_job
from annotations.execution import save_result
from imaging.actions import do_ingest
from imaging.models import Series
from prompts.actions.exchange import do_load_library
from prompts.models import PromptVersion
from prompts.source import read_library
from tests.backend.annotations.conftest import ct_files
from tests.model.head_ct import load_head_ct, require_cranium

SLICES = int(os.environ.get("LOAD_SLICES", "24"))

seed_roles()
site, _ = Site.objects.get_or_create(code="home", defaults={"name": "Home Hospital"})
user = User.objects.create_user("load_annotator", password=os.environ["LOAD_PASSWORD"],
                                site=site, printed_name="Dr. Load")
user.groups.set(Group.objects.filter(name="annotator"))
entries, problems = read_library()
do_load_library(site, entries)
head = load_head_ct(require_cranium())
files = ct_files(head.hu[60:60 + SLICES], head.spacing_zyx, "LOAD-1")
do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=site, actor=user)
series = Series.objects.latest("id")
version = PromptVersion.objects.get(entry__site=site, entry__key="liver-ct", state="approved")
key = SLICES // 2
job, _ = do_submit_job(user, series, version,
                       {"prompts": [{"slice": key, "box": [80.0, 80.0, 180.0, 180.0]}]})
job = do_claim_job(job.pk, "load-seed@localhost")
mask = np.zeros((SLICES, 256, 256), np.uint8)
mask[:, 90:160, 90:170] = 1
result = save_result(job, mask, masks.stats(mask, (1.5, 0.957, 0.957)),
                     dict.fromkeys(range(SLICES), 0.9), None, [],
                     {"engine": "litemedsam", "weights_sha256": "ab" * 32,
                      "code_version": "bench"})
instances = list(series.instances.order_by("instance_number", "id"))
print("LOAD " + json.dumps({
    "study": series.study.study_instance_uid, "series": series.series_instance_uid,
    "sops": [i.sop_instance_uid for i in instances], "result": result.pk,
    "series_pk": series.pk,
}))
