"""Inference jobs through the queue versus the engine called directly, in one run.

Starts a private embedded deployment (SQLite + file-system broker by default, or whatever
DATABASE_URL / CELERY_BROKER_URL name) in a temporary folder, with a real worker process, a real
head CT (Debian invesalius-examples) and the shipped prompt library; then measures, median of
--repeat runs each:

  direct   the engine in this process: a 2D prompt with the slice embedding uncached and
           cached, and a propagation over --slices slices (the limit the queue can reach);
  queued   a job from submission to stored result, the same three cases (the prompt-agreement
           check runs after the result is stored; the bench reports when it was recorded);
  burst    --burst 2D jobs submitted at once on one slice: jobs per minute.

    .venv/bin/python bench/jobs_throughput.py [--engine litemedsam-int8] [--slices 60] [--smoke]

--smoke: 3 slices, one run per case, a burst of 2 (seconds past the worker's start): the same
deployment, worker, engine and cases. Any run exits non-zero when a job fails or does not
finish within JOB_TIMEOUT seconds, or the worker does not start.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]

from embedded_site import setup_environment  # noqa: E402

JOB_TIMEOUT = 600  # seconds one job (or the burst) may take before the bench gives up


def approved_version(engine: str):
    """The brain protocol, re-approved with ``engine`` by two prompt administrators."""
    from django.contrib.auth.models import Group

    from accounts.models import Site, User
    from prompts.actions.exchange import do_load_library
    from prompts.actions.versions import (
        do_approve,
        do_create_draft,
        do_submit,
        do_update_draft,
    )
    from prompts.models import PromptVersion
    from prompts.source import read_library

    site = Site.objects.create(code="bench", name="Bench")
    for role in ("annotator", "prompt_admin"):
        Group.objects.get_or_create(name=role)
    people = {}
    for name, role in [("annotator", "annotator"), ("author", "prompt_admin"),
                       ("approver", "prompt_admin")]:
        people[name] = User.objects.create_user(name, password="bench-pass-42!", site=site)
        people[name].groups.set(Group.objects.filter(name=role))
    do_load_library(site, read_library()[0])
    version = PromptVersion.objects.get(entry__site=site, entry__key="brain-ct",
                                        state="approved")
    if engine != version.content["engine"]["name"]:
        draft = do_create_draft(people["author"], version)
        content = {**draft.content, "engine": {**draft.content["engine"], "name": engine}}
        draft = do_update_draft(people["author"], draft, content)
        do_submit(people["author"], draft)
        version = do_approve(people["approver"], draft, password="bench-pass-42!")
    return site, people["annotator"], version


def head_series(site, annotator, slices: int, centre: int = 68):
    import io

    from imaging.actions import do_ingest
    from imaging.models import Series
    from model.imaging import Volume
    from model.imaging.dicom_export import volume_to_datasets
    from model.imaging.dicom_file import to_part10_bytes
    from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3

    head = read_inv3(DEBIAN_HEAD_CT)
    start = max(0, centre - slices // 2)
    part = Volume(head.voxels[start:start + slices].copy(), head.affine, "CT")
    patient = f"B{slices}-{centre}"
    files = [to_part10_bytes(d) for d in volume_to_datasets(part, patient_id=patient,
                                                          modality="CT")]
    do_ingest([(f"{i}.dcm", io.BytesIO(b), len(b)) for i, b in enumerate(files)], site=site,
              actor=annotator)
    return Series.objects.filter(study__patient__patient_id=patient).latest("id")


def brain_box(voxels, key: int) -> list[float]:
    import numpy as np
    from scipy import ndimage

    soft = ndimage.binary_opening((voxels[key] > 0) & (voxels[key] < 80), iterations=3)
    rows, cols = np.flatnonzero(soft.any(axis=1)), np.flatnonzero(soft.any(axis=0))
    return [float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])]


def start_worker(var_dir: Path) -> subprocess.Popen:
    from core import processes

    command = processes.celery_worker_command("bench@localhost", ["cpu", "gpu", "default"])
    with open(var_dir / "worker.log", "wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'backend'}:{ROOT}"},
        )


def run_job(annotator, series, version, key: int, box: list[float]) -> float:
    from annotations.actions import do_submit_job

    started = time.perf_counter()
    job, created = do_submit_job(annotator, series, version,
                                 {"prompts": [{"slice": key, "box": box}]})
    if not created:
        raise RuntimeError("bench boxes must differ so each job is new")
    while True:
        job.refresh_from_db()
        if job.finished:
            if job.status != "succeeded":
                raise RuntimeError(f"job {job.pk} {job.status}: {job.error}")
            return time.perf_counter() - started
        if time.perf_counter() - started > JOB_TIMEOUT:
            raise RuntimeError(f"job {job.pk} still {job.status} after {JOB_TIMEOUT} s")
        time.sleep(0.02)


def nudged(box: list[float], step: int) -> list[float]:
    return [box[0] + 0.01 * step, box[1], box[2], box[3]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="litemedsam-int8")
    parser.add_argument("--slices", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    if args.smoke:
        args.slices, args.repeat, args.burst = 3, 1, 2
    var_dir = Path(tempfile.mkdtemp(prefix="medsam-bench-"))
    setup_environment(var_dir)

    from imaging.volumes import load_series_volume
    from model.engines.registry import get_engine
    from model.protocol import segment_options, window_tuple

    site, annotator, volume_version = approved_version(args.engine)
    content = volume_version.content
    one = head_series(site, annotator, 1)
    many = head_series(site, annotator, args.slices)
    volume = load_series_volume(many)
    key = args.slices // 2
    box = brain_box(volume.voxels, key)
    spacing = (volume.spacing[2], volume.spacing[1], volume.spacing[0])
    engine = get_engine(args.engine)
    print(f"engine {engine.name} on {engine.device}, weights {engine.weights_sha256[:12]}, "
          f"{args.slices}-slice series, box {box}")

    def direct(series_volume, slice_index, prompt_box):
        started = time.perf_counter()
        engine.segment_volume(series_volume.voxels, spacing, [(slice_index, tuple(prompt_box))],
                              window=window_tuple(content), modality="CT",
                              options=segment_options(content, spacing[0]))
        return time.perf_counter() - started

    one_volume = load_series_volume(one)
    results = {}
    results["direct 2D uncached"] = []
    results["direct 2D cached"] = []
    for step in range(args.repeat):
        engine.cache.clear()
        results["direct 2D uncached"].append(direct(one_volume, 0, nudged(box, step)))
        results["direct 2D cached"].append(direct(one_volume, 0, nudged(box, step + 50)))
    results["direct propagation"] = [direct(volume, key, nudged(box, s))
                                     for s in range(args.repeat)]

    worker = start_worker(var_dir)
    try:
        from core.models import WorkerHeartbeat

        deadline = time.monotonic() + 120
        while not WorkerHeartbeat.objects.filter(hostname="bench@localhost").exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start: "
                                   + (var_dir / "worker.log").read_text()[-2000:])
            time.sleep(0.2)
        run_job(annotator, one, volume_version, 0, nudged(box, 900))  # warm the engine
        # Uncached: a slice the worker has not embedded yet (another single-slice series);
        # cached: the slice embedded by the warm-up job, with another box.
        results["queued 2D uncached"] = [
            run_job(annotator, head_series(site, annotator, 1, centre=70 + step),
                    volume_version, 0, nudged(box, 100 + step))
            for step in range(args.repeat)
        ]
        results["queued 2D cached"] = [run_job(annotator, one, volume_version, 0,
                                               nudged(box, 150 + step))
                                       for step in range(args.repeat)]
        results["queued propagation"] = [run_job(annotator, many, volume_version, key,
                                                 nudged(box, 200 + s))
                                         for s in range(args.repeat)]
        from annotations.actions import do_submit_job
        from annotations.models import Job

        started = time.perf_counter()
        ids = [do_submit_job(annotator, one, volume_version,
                             {"prompts": [{"slice": 0, "box": nudged(box, 300 + i)}]})[0].pk
               for i in range(args.burst)]
        while Job.objects.filter(pk__in=ids, status="succeeded").count() < len(ids):
            failed = Job.objects.filter(pk__in=ids, finished_at__isnull=False).exclude(
                status="succeeded")
            if failed.exists():
                raise RuntimeError(f"burst job {failed[0].pk} {failed[0].status}: "
                                   f"{failed[0].error}")
            if time.perf_counter() - started > JOB_TIMEOUT:
                raise RuntimeError(f"the burst did not finish within {JOB_TIMEOUT} s")
            time.sleep(0.05)
        burst_seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)

    print(f"\n{'case':<24}{'median s':>10}  runs")
    for name, values in results.items():
        if values:
            print(f"{name:<24}{statistics.median(values):>10.3f}  "
                  + " ".join(f"{v:.3f}" for v in values))
    for case in ("2D cached", "propagation"):
        queued, direct_ = results[f"queued {case}"], results[f"direct {case}"]
        if queued and direct_:
            overhead = statistics.median(queued) - statistics.median(direct_)
            print(f"queue overhead, {case}: {overhead:.3f} s "
                  f"(queued/direct {statistics.median(queued) / statistics.median(direct_):.2f}x)")
    from annotations.models import Job

    print("\nwhere a queued job's time goes (medians over all jobs, s):")
    jobs = list(Job.objects.filter(status="succeeded").select_related("result"))
    waits = [(j.started_at - j.created_at).total_seconds() for j in jobs]
    runs = [(j.finished_at - j.started_at).total_seconds() for j in jobs]
    engine_times = [j.result.provenance["timings"]["total"] for j in jobs]
    in_worker = [j.result.provenance["duration_seconds"] for j in jobs]
    print(f"  submitted -> started {statistics.median(waits):.3f}, started -> finished "
          f"{statistics.median(runs):.3f}, of which engine {statistics.median(engine_times):.3f}"
          f" and whole run() {statistics.median(in_worker):.3f}")
    for stage in ("load", "engine"):
        values = [j.result.provenance["stages"][stage] for j in jobs]
        print(f"  stage {stage}: {statistics.median(values):.3f}")
    # The agreement check runs after the result is stored (annotations.agreement): it is not
    # in "submitted -> stored"; Confirm waits for it.
    from audit.models import AuditEntry

    checks = {int(e.object_id): e for e in AuditEntry.objects.filter(action="result.agreement")}
    after = [(checks[j.result.pk].at - j.finished_at).total_seconds()
             for j in jobs if j.result.pk in checks]
    seconds = [checks[j.result.pk].new_values.get("seconds") for j in jobs
               if j.result.pk in checks]
    if after:
        print(f"  agreement check (after the result is stored): {statistics.median(seconds):.3f}"
              f" s; recorded {statistics.median(after):.3f} s after the result "
              f"({len(after)} of {len(jobs)} results)")
    print(f"burst: {args.burst} cached 2D jobs in {burst_seconds:.1f} s = "
          f"{60 * args.burst / burst_seconds:.1f} jobs/min")


if __name__ == "__main__":
    main()
