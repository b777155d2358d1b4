"""What recording a viewer's frame reads costs (issue 20): concurrent users each open one series
and read its frames, recorded the old way (a chained ``imaging.read`` entry per frame, under
the chain head's lock) and the new way (``audit.reads.record_read``: a read record per frame,
one chained entry per user and series opened). Only the audit is timed, no image is decoded:
the figure is the audit's share of a frame request and how it grows with concurrent users.

    .venv/bin/python bench/read_audit.py [--users 20] [--reads 300] [--database postgres]
        [--smoke]

For each way: reads per second over all users, p50/p99 of one read's recording, and the
chained entries and read records written. The installation is private (bench/load_seed.py):
SQLite in a temporary folder, or with --database postgres a private PostgreSQL database
(``medsam_loadbench`` on 127.0.0.1:5432, user postgres, trust authentication) created and
dropped by the run. Each user is a thread with its own database connection.

--smoke: 2 users, 10 reads each (seconds); exits non-zero when a way wrote other counts
than it should."""
import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL = "django.core.management.commands.shell"  # __name__ of code run by `manage.py shell -c`


def run(users: int, reads: int) -> dict:
    """In the private installation (``manage.py shell``): seed, then time both ways."""
    import statistics
    import threading
    import time

    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.management.commands.seed_roles import seed_roles
    from accounts.models import Site, User
    from audit import reads as read_log
    from audit.models import AuditEntry, ReadRecord
    from audit.trail import record_event
    from imaging.models import Instance, Patient, Series, Study

    seed_roles()
    site = Site.objects.create(code="bench", name="Bench Hospital")
    people = []
    for k in range(users):
        user = User.objects.create_user(f"reader{k}", password=secrets.token_urlsafe(16),
                                        site=site, printed_name=f"Dr. Reader {k}")
        user.groups.set(Group.objects.filter(name="annotator"))
        people.append(user)

    def series_of(tag: str) -> list:
        patient = Patient.objects.create(site=site, patient_id=f"P-{tag}")
        study = Study.objects.create(site=site, patient=patient, study_instance_uid=f"1.2.{tag}")
        series = Series.objects.create(site=site, study=study, series_instance_uid=f"1.3.{tag}")
        return [Instance.objects.create(
            site=site, series=series, sop_instance_uid=f"1.4.{tag}.{n}",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.2", transfer_syntax_uid="1.2.840.10008.1.2.1",
            instance_number=n + 1, rows=512, columns=512, file=f"bench/{tag}/{n}.dcm",
            sha256=f"{n:064x}", size=0)
            for n in range(reads)]

    def old_way(instance, user) -> None:  # imaging.access.record_read before issue 20
        record_event(action="imaging.read", actor=user, target=instance, new={"what": "frames"})

    def new_way(instance, user) -> None:
        read_log.record_read(instance, "frames", actor=user)

    def timed(name: str, record, instances) -> dict:
        chained = AuditEntry.objects.filter(action="imaging.read").count()
        records = ReadRecord.objects.count()
        took: list[float] = []
        lock = threading.Lock()
        failures: list[str] = []

        def reader(user) -> None:
            mine = []
            try:
                for instance in instances:
                    start = time.perf_counter()
                    record(instance, user)
                    mine.append((time.perf_counter() - start) * 1000)
            except Exception as exc:  # noqa: BLE001 (reported below)
                failures.append(repr(exc))
            finally:
                connection.close()
                with lock:
                    took.extend(mine)

        threads = [threading.Thread(target=reader, args=(user,)) for user in people]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        ordered = sorted(took) or [0.0]
        return {"way": name, "users": users, "reads": len(took),
                "reads_per_s": round(len(took) / elapsed, 1),
                "p50_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
                "chained_entries": AuditEntry.objects.filter(action="imaging.read").count()
                - chained,
                "read_records": ReadRecord.objects.count() - records,
                "failures": failures[:3]}

    return {"rows": [timed("chained per frame (before)", old_way, series_of("old")),
                     timed("read log (issue 20)", new_way, series_of("new"))],
            "vendor": connection.vendor}


def main() -> None:
    from load_seed import private_env, private_postgres

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--reads", type=int, default=300, help="frames per user (one series)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    if args.smoke:
        args.users, args.reads = 2, 10
    var = Path(tempfile.mkdtemp(prefix="medsam-read-audit-"))
    try:
        with (private_postgres() if args.database == "postgres"
              else contextlib.nullcontext()) as url:
            env = private_env(var, "unused", 0, url)
            env["READ_AUDIT"] = json.dumps([args.users, args.reads])
            subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO,
                           env=env, check=True)
            shell = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                                    Path(__file__).read_text()], cwd=REPO, env=env,
                                   capture_output=True, text=True)
            if shell.returncode:
                sys.exit(f"the timed run failed:\n{shell.stderr[-3000:]}")
            out = shell.stdout
    finally:
        shutil.rmtree(var, ignore_errors=True)
    result = json.loads(next(line for line in out.splitlines()
                             if line.startswith("READS "))[6:])
    print(f"database: {result['vendor']}; {args.users} users x {args.reads} frame reads each")
    print(f"{'way':>28} {'reads/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'chained':>8} {'records':>8}")
    for row in result["rows"]:
        print(f"{row['way']:>28} {row['reads_per_s']:>8} {row['p50_ms']:>7} {row['p99_ms']:>7}"
              f" {row['chained_entries']:>8} {row['read_records']:>8}")
    print(json.dumps(result))
    old, new = result["rows"]
    total = args.users * args.reads
    # One chained entry per user for the new way; two where a run crosses a window's end.
    wrong = [row["way"] for row, ok in (
        (old, (old["chained_entries"], old["read_records"]) == (total, 0)),
        (new, args.users <= new["chained_entries"] <= 2 * args.users
         and new["read_records"] == total),
    ) if not ok or row["reads"] != total or row["failures"]]
    if wrong:
        sys.exit(f"unexpected counts or failures: {wrong}")


if __name__ == "__main__":
    main()
elif __name__ == SHELL:
    print("READS " + json.dumps(run(*json.loads(os.environ["READ_AUDIT"]))))
