"""The soak test's deployment, run as a script against an embedded default in its own folder
(``MEDSAM_VAR_DIR``): ``setup`` makes the site, its people, the shipped library (liver protocol
re-approved on the int8 engine) and two series cut from TotalSegmentator's real abdominal CT
(one slice for 2D jobs, five for 3D); ``report`` prints what became of every job, from the
database the deployment used. Both print one JSON object.

    python tests/reliability/soak_site.py setup|report
"""
import gzip
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]

PASSWORD = "soak-pass-42!"
PATIENT = "SOAK-ABDOMEN"


def django_setup() -> None:
    import django

    django.setup()


def cut(volume_path: Path, first: int, count: int) -> bytes:
    """Slices ``first .. first+count-1`` of a NIfTI volume as a NIfTI file of their own."""
    import nibabel as nib
    import numpy as np

    image = nib.load(str(volume_path))
    data = np.asarray(image.dataobj)[:, :, first:first + count]
    affine = image.affine.copy()
    affine[:3, 3] = (image.affine @ np.array([0, 0, first, 1]))[:3]
    part = nib.Nifti1Image(data, affine)
    part.set_qform(affine, code=1)
    part.set_sform(affine, code=1)
    return gzip.compress(part.to_bytes())


def setup() -> dict:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    django_setup()
    from django.contrib.auth.models import Group

    from accounts.models import Site, User
    from imaging.actions import do_ingest
    from imaging.models import Series
    from imaging.outcomes import Status
    from model.imaging.reference_data import reference_dir
    from prompts.actions.exchange import do_load_library
    from prompts.actions.versions import do_approve, do_create_draft, do_submit, do_update_draft
    from prompts.models import PromptVersion
    from prompts.source import read_library

    site = Site.objects.create(code="soak", name="Soak")
    people = {}
    for name, role in [("annotator", "annotator"), ("author", "prompt_admin"),
                       ("approver", "prompt_admin")]:
        people[name] = User.objects.create_user(name, password=PASSWORD, site=site)
        people[name].groups.set([Group.objects.get_or_create(name=role)[0]])
    do_load_library(site, read_library()[0])
    version = PromptVersion.objects.get(entry__site=site, entry__key="liver-ct", state="approved")
    if version.content["engine"]["name"] != "litemedsam-int8":
        draft = do_create_draft(people["author"], version)
        content = {**draft.content, "engine": {**draft.content["engine"],
                                               "name": "litemedsam-int8"}}
        draft = do_update_draft(people["author"], draft, content)
        do_submit(people["author"], draft)
        version = do_approve(people["approver"], draft, password=PASSWORD)

    ct = reference_dir() / "example_ct_sm.nii.gz"
    series = {}
    for label, first, count in [("2d", 15, 1), ("3d", 13, 5)]:
        data = cut(ct, first, count)
        report = do_ingest([(f"abdomen-{label}.nii.gz", io.BytesIO(data), len(data))],
                           site=site, actor=people["annotator"], patient_id=f"{PATIENT}-{label}",
                           modality="CT", source_format="nifti")
        assert report.count(Status.IMPORTED) == 1, report.summary()
        series[label] = Series.objects.filter(
            study__patient__patient_id=f"{PATIENT}-{label}").latest("id")
    return {
        "version": version.pk,
        "series_2d": series["2d"].pk, "series_3d": series["3d"].pk,
        "rows": series["2d"].instances.first().rows,
        "columns": series["2d"].instances.first().columns,
        "username": "annotator", "password": PASSWORD,
    }


def report() -> dict:
    django_setup()
    from annotations.models import Job, Result
    from audit.models import AuditEntry

    jobs = list(Job.objects.values("public_id", "pk", "status", "attempts", "error"))
    results = Counter(Result.objects.values_list("job_id", flat=True))
    finished = Counter(
        AuditEntry.objects.filter(action__in=["job.succeeded", "job.failed", "job.cancelled"],
                                  object_type="annotations.job")
        .values_list("object_id", flat=True)
    )
    return {
        "jobs": {
            str(job["public_id"]): {
                "status": job["status"], "attempts": job["attempts"], "error": job["error"],
                "results": results.get(job["pk"], 0),
                "finished_entries": finished.get(str(job["pk"]), 0),
            }
            for job in jobs
        }
    }


if __name__ == "__main__":
    action = {"setup": setup, "report": report}[sys.argv[1]]
    print(json.dumps(action()))
