"""Seeds the load benchmark's private installation (run by load_api.py through manage.py shell):
roles, one annotator, the shipped prompt library, a real head CT series (Debian's
invesalius-examples) and an AI result on it. Prints what the load needs as one JSON line.

Run alone, it seeds a private embedded site in a temporary folder (its own SQLite database and
file-system broker: DATABASE_URL and CELERY_BROKER_URL are left out, so a shared database is
never written) and checks what it made:

    .venv/bin/python bench/load_seed.py [--slices 24] [--smoke] [--database postgres]

--database postgres: the same on a private PostgreSQL database (``medsam_loadbench`` on
127.0.0.1:5432, user postgres, trust authentication; another server by
MEDSAM_LOADBENCH_POSTGRES=postgres://user:password@host:port), created and dropped by the run.

--smoke: 4 slices (seconds); exits non-zero when the seed is not what the load needs."""
import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL = "django.core.management.commands.shell"  # __name__ of code run by `manage.py shell -c`
# What would send a private installation to a shared database, broker or test folders.
SHARED_SETTINGS = ("DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_BROKER_DIR",
                   "MEDSAM_TEST_DB_NAME", "MEDSAM_MEDIA_ROOT", "MEDSAM_AUDIT_ANCHOR_FILE")


def private_env(var: Path, password: str, slices: int, database_url: str | None = None) -> dict:
    """The environment of a private embedded installation in ``var``; on the private database
    ``database_url`` names (``private_postgres``) instead of SQLite in ``var`` where given."""
    env = {name: value for name, value in os.environ.items() if name not in SHARED_SETTINGS}
    if database_url:
        # As deployed (deploy/env.example): persistent connections, not one per request.
        env.setdefault("DATABASE_CONN_MAX_AGE", "60")
        env["DATABASE_URL"] = database_url
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "MEDSAM_VAR_DIR": str(var),
                "LOAD_PASSWORD": password, "LOAD_SLICES": str(slices),
                "PYTHONPATH": f"{REPO / 'backend'}:{REPO}", "MEDSAM_LOG_LEVEL": "WARNING",
                "MEDSAM_LOGIN_FAILURE_LIMIT": "1000"})
    return env


# The server the private database is made on (trust authentication or a password in the URL).
POSTGRES_SERVER = os.environ.get("MEDSAM_LOADBENCH_POSTGRES",
                                 "postgres://postgres@127.0.0.1:5432")
# Its name; a concurrent run (the test suite's smoke) names its own: medsam_loadbench_<suffix>.
POSTGRES_DATABASE = os.environ.get("MEDSAM_LOADBENCH_DB", "medsam_loadbench")


@contextlib.contextmanager
def private_postgres(server: str = POSTGRES_SERVER, name: str = POSTGRES_DATABASE):
    """A fresh private PostgreSQL database ``name`` on ``server`` (trust authentication as
    ``postgres``), dropped afterwards; yields its URL. Never a shared database: the name is
    this bench's own and it is dropped first if a killed run left it behind."""
    import psycopg

    if not re.fullmatch(r"medsam_loadbench\w*", name):
        raise ValueError(f"refusing to create and drop {name!r}: not a load bench database")

    def admin(sql: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed_private_site(env: dict) -> dict:
    """Migrate the installation ``env`` names and seed it with this file; what it printed."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env,
                   check=True)
    script = Path(__file__).read_text()
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=REPO, env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("LOAD "))[5:])


def seed(slices: int, password: str) -> dict:
    import io

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

    seed_roles()
    site, _ = Site.objects.get_or_create(code="home", defaults={"name": "Home Hospital"})
    user = User.objects.create_user("load_annotator", password=password, site=site,
                                    printed_name="Dr. Load")
    user.groups.set(Group.objects.filter(name="annotator"))
    entries, problems = read_library()
    do_load_library(site, entries)
    head = load_head_ct(require_cranium())
    files = ct_files(head.hu[60:60 + slices], head.spacing_zyx, "LOAD-1")
    do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=site, actor=user)
    series = Series.objects.latest("id")
    version = PromptVersion.objects.get(entry__site=site, entry__key="brain-ct",
                                        state="approved")
    key = slices // 2
    job, _ = do_submit_job(user, series, version,
                           {"prompts": [{"slice": key, "box": [80.0, 80.0, 180.0, 180.0]}]})
    job = do_claim_job(job.pk, "load-seed@localhost")
    mask = np.zeros((slices, 256, 256), np.uint8)
    mask[:, 90:160, 90:170] = 1
    result = save_result(job, mask, masks.stats(mask, (1.5, 0.957, 0.957)),
                         dict.fromkeys(range(slices), 0.9), None, [],
                         {"engine": "litemedsam", "weights_sha256": "ab" * 32,
                          "code_version": "bench"})
    instances = list(series.instances.order_by("instance_number", "id"))
    return {
        "study": series.study.study_instance_uid, "series": series.series_instance_uid,
        "sops": [i.sop_instance_uid for i in instances], "result": result.pk,
        "series_pk": series.pk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=24)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    if args.smoke:
        args.slices = 4
    var = Path(tempfile.mkdtemp(prefix="medsam-load-seed-"))
    try:
        with (private_postgres() if args.database == "postgres"
              else contextlib.nullcontext()) as url:
            data = seed_private_site(private_env(var, secrets.token_urlsafe(16) + "aA1!",
                                                 args.slices, url))
    finally:
        shutil.rmtree(var, ignore_errors=True)
    print(json.dumps(data))
    if len(data["sops"]) != args.slices or len(set(data["sops"])) != args.slices:
        sys.exit(f"{len(data['sops'])} instances seeded, {args.slices} expected")
    if not isinstance(data["result"], int):
        sys.exit(f"no result seeded: {data['result']!r}")


if __name__ == "__main__":
    main()
elif __name__ == SHELL:  # load_api.py / main(): `manage.py shell -c <this file>`
    print("LOAD " + json.dumps(seed(int(os.environ.get("LOAD_SLICES", "24")),
                                    os.environ["LOAD_PASSWORD"])))
