"""Time from box release to overlay drawn, measured in the browser (headless Chromium).

Starts a private embedded deployment in a temporary folder (SQLite, file-system broker, the
web server on 127.0.0.1 and one real worker on the default engine), ingests slices of the
real head CT (Debian invesalius-examples), then drives the viewer like an annotator: pick the
brain protocol by typing, drag the box, press Segment, and wait for the labelmap to render.
The time is the page's own clock: ``performance.now()`` at pointer release to the first
IMAGE_RENDERED after the mask is loaded into the labelmap (the viewer polls the job every
0.4 s, so each figure includes up to that much polling delay).

Cases, median of --repeat runs each (--propagation-repeat for the propagation):
  2D uncached    a one-slice series the worker has not embedded yet
  2D cached      the same one-slice series again, box moved by a pixel (embedding cached)
  propagation    a --slices slice series, box on the middle slice, propagated both ways

    .venv/bin/python bench/viewer_bench.py [--repeat 3] [--slices 60] [--propagation-repeat 1]
        [--screenshot docs/viewer.png] [--smoke]

Live preview (issue 23), median of --repeat drags: on a fresh one-slice series, drag the box's
corner in and out for 2 s at 60 mouse moves/s and release: previews drawn per second and their
round trip once the slice is embedded, release to the released box's preview, the first
preview's round trip on the uncached slice; then on a series left open for the prefetch to
embed it, the first preview's round trip; bytes per preview answer and the browser's JS heap.

--smoke: one run of each case on a 3-slice series (seconds past the worker's start): the same
deployment, browser, clicks and clock, with a job allowed SMOKE_OVERLAY_TIMEOUT_MS. Any run
exits non-zero when an overlay is not drawn in time, a job fails or a figure is not positive.
"""
import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]

from embedded_site import setup_environment  # noqa: E402

PASSWORD = "bench-viewer-pass-42!"
OVERLAY_TIMEOUT_MS = 3_600_000
SMOKE_OVERLAY_TIMEOUT_MS = 120_000
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


PREFETCH_WAIT_MS = 6_000  # the viewer prefetches after 250 ms on a slice; the worker embeds
PREVIEW_FIGURES = [
    ("fps", "previews drawn per second, cached slice"),
    ("median_ms", "preview round trip, cached slice, ms"),
    ("web_to_worker_ms", "  of which web tier to worker and back, ms"),
    ("engine_ms", "  of which the worker's engine, ms"),
    ("release_ms", "release to the released box's preview, ms"),
    ("first_ms", "first preview, uncached slice, ms"),
    ("prefetched_first_ms", "first preview, prefetched slice, ms"),
    ("bytes", "bytes per preview answer"),
    ("heap_mb", "browser JS heap after dragging, MiB"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(var_dir: Path):
    setup_environment(var_dir)
    from django.contrib.auth.models import Group

    from accounts.management.commands.seed_roles import seed_roles
    from accounts.models import Site, User
    from prompts.actions.exchange import do_load_library
    from prompts.source import read_library

    seed_roles()
    site = Site.objects.create(code="bench", name="Bench Hospital")
    user = User.objects.create_user("bench_annotator", password=PASSWORD, site=site,
                                    printed_name="Dr. Bench Annotator")
    user.groups.set(Group.objects.filter(name="annotator"))
    do_load_library(site, read_library()[0])
    return site, user


def head_series(site, user, first: int, count: int, patient: str):
    import io

    from imaging.actions import do_ingest
    from imaging.models import Series
    from model.imaging import Volume
    from model.imaging.dicom_export import volume_to_datasets
    from model.imaging.dicom_file import to_part10_bytes
    from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3

    head = read_inv3(DEBIAN_HEAD_CT)
    part = Volume(head.voxels[first:first + count].copy(), head.affine, "CT")
    files = [to_part10_bytes(d) for d in volume_to_datasets(
        part, patient_id=patient, patient_name=f"Bench^{patient}", modality="CT",
        series_description=f"Head CT {count} slices")]
    do_ingest([(f"{i}.dcm", io.BytesIO(b), len(b)) for i, b in enumerate(files)], site=site,
              actor=user)
    series = Series.objects.get(study__patient__patient_id=patient)
    return series, brain_box(part.voxels[count // 2]), count // 2


def brain_box(hu) -> list[float]:
    import numpy as np
    from scipy import ndimage

    soft = ndimage.binary_opening((hu > 0) & (hu < 80), iterations=3)
    labels, _ = ndimage.label(soft)
    largest = labels == (np.bincount(labels.ravel())[1:].argmax() + 1)
    rows, cols = np.flatnonzero(largest.any(axis=1)), np.flatnonzero(largest.any(axis=0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]


def start_services(var_dir: Path, port: int):
    from core import processes

    web = processes.start(processes.web_command("127.0.0.1", port, workers=1))
    worker = processes.start(processes.celery_worker_command("viewer-bench@localhost",
                                                             ["cpu", "gpu", "default"]),
                             env=processes.MODEL_WORKER_ENV)  # its endpoint: the live preview
    from core.models import WorkerHeartbeat

    deadline = time.monotonic() + 120
    while not WorkerHeartbeat.objects.filter(hostname="viewer-bench@localhost").exclude(
            http_url="").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the worker sent no heartbeat within 120 s")
        time.sleep(0.2)
    return [web, worker]


def release_to_overlay(page, base: str, series_id: int, box: list[float], nudge: float,
                       timeout_ms: int = OVERLAY_TIMEOUT_MS) -> float:
    """One annotation: returns milliseconds from box release to overlay drawn."""
    page.goto(f"{base}/annotations/series/{series_id}/")
    page.wait_for_selector("#viewer-app[data-ready='1']", timeout=120_000)
    before = page.evaluate("window.medsamViewer.results.timings.overlayDrawnAt")
    page.fill("#prompt-search", "brain")
    page.click("#prompt-options li[role=option]:has-text('Brain')")
    page.wait_for_selector("#prompt-chosen:not([hidden])")
    corners = [page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)",
                             [box[0] + nudge, box[1]]),
               page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)",
                             [box[2], box[3]])]
    page.mouse.move(*corners[0])
    page.mouse.down()
    page.mouse.move(*corners[1], steps=5)
    page.mouse.up()
    page.click("#prompt-submit")
    page.wait_for_function(f"window.medsamViewer.results.timings.overlayDrawnAt > {before}",
                           timeout=timeout_ms)
    released, drawn = page.evaluate(
        "[window.medsamViewer.layer.lastRelease, window.medsamViewer.results.timings"
        ".overlayDrawnAt]")
    return drawn - released


def open_with_protocol(page, base: str, series_id: int) -> None:
    page.goto(f"{base}/annotations/series/{series_id}/")
    page.wait_for_selector("#viewer-app[data-ready='1']", timeout=120_000)
    page.fill("#prompt-search", "brain")
    page.click("#prompt-options li[role=option]:has-text('Brain')")
    page.wait_for_selector("#prompt-chosen:not([hidden])")


def drag_with_preview(page, box: list[float], seconds: float = 2.0, rate_hz: float = 60.0,
                      timeout_ms: int = OVERLAY_TIMEOUT_MS) -> dict:
    """Drag the box's far corner in and out for ``seconds`` at a mouse's ``rate_hz``, as a
    hand does, then release; the live preview's figures from the page's own clock: the first
    preview's round trip, previews drawn per second while dragging, the median round trip,
    release to the preview of the released box, and the bytes of one preview answer."""
    page.evaluate("performance.clearResourceTimings(); window.medsamViewer.live.stats = "
                  "Object.assign(window.medsamViewer.live.stats, {sent: 0, drawn: 0, "
                  "latencies: [], lastDrawnAt: 0, workerRoundTrips: [], engineMs: []})")
    start = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[:2])
    far = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[2:])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + far[0]) / 2, (start[1] + far[1]) / 2, steps=3)
    page.wait_for_function("window.medsamViewer.live.stats.drawn > 0", timeout=timeout_ms)
    first_ms = page.evaluate("window.medsamViewer.live.stats.latencies[0]")
    began = page.evaluate("[performance.now(), window.medsamViewer.live.stats.drawn]")
    moves = int(seconds * rate_hz)
    for i in range(moves):  # the corner sweeps from 70 % of the box to 100 % and back
        t = 0.7 + 0.3 * abs((2 * i / moves) % 2 - 1)
        page.mouse.move(start[0] + (far[0] - start[0]) * t, start[1] + (far[1] - start[1]) * t)
        page.wait_for_timeout(1000 / rate_hz)
    page.mouse.move(*far)
    ended = page.evaluate("[performance.now(), window.medsamViewer.live.stats.drawn]")
    page.mouse.up()
    page.wait_for_function("""() => { const v = window.medsamViewer;
        const a = v.live.shown && v.live.shown.box;
        const b = v.layer.prompts[0] && v.layer.prompts[0].box;
        return a && b && a.every((x, i) => Math.abs(x - b[i]) < 0.01); }""", timeout=timeout_ms)
    figures = page.evaluate("""() => { const v = window.medsamViewer, s = v.live.stats;
        const sizes = performance.getEntriesByType('resource')
            .filter((e) => e.name.includes('/annotations/preview')).map((e) => e.encodedBodySize);
        return {latencies: s.latencies, worker: s.workerRoundTrips, engine: s.engineMs,
                release: Math.max(0, s.lastDrawnAt - v.layer.lastRelease),
                bytes: sizes, heap: (performance.memory || {}).usedJSHeapSize || 0}; }""")
    fps = (ended[1] - began[1]) / ((ended[0] - began[0]) / 1000)
    return {"first_ms": first_ms, "fps": fps,
            "median_ms": statistics.median(figures["latencies"]),
            "web_to_worker_ms": statistics.median(figures["worker"]),
            "engine_ms": statistics.median(figures["engine"]),
            "release_ms": figures["release"],
            "bytes": statistics.median(figures["bytes"]) if figures["bytes"] else 0,
            "heap_mb": figures["heap"] / 2**20}


def record(timings: dict, case: str, ms: float) -> None:
    """Keep one browser figure and print it beside the server's view of the same job."""
    from annotations.models import Job

    timings[case].append(ms)
    job = Job.objects.latest("created_at")
    if job.status != "succeeded" or not ms > 0:
        raise RuntimeError(f"{case}: job {job.pk} {job.status} ({job.error}), {ms} ms")
    queued = (job.started_at - job.created_at).total_seconds() * 1000
    ran = (job.finished_at - job.started_at).total_seconds() * 1000
    print(f"{case}: {ms:.0f} ms in the browser; job queued {queued:.0f} ms, ran {ran:.0f} ms "
          f"({job.progress_total} slices)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slices", type=int, default=60)
    parser.add_argument("--propagation-repeat", type=int, default=1,
                        help="propagation runs (the first is uncached; later ones reuse the "
                        "worker's slice embeddings)")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="save the viewer after the propagation (e.g. docs/viewer.png)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    timeout_ms = OVERLAY_TIMEOUT_MS
    if args.smoke:
        args.repeat, args.slices, args.propagation_repeat = 1, 3, 1
        timeout_ms = SMOKE_OVERLAY_TIMEOUT_MS
    var_dir = Path(tempfile.mkdtemp(prefix="medsam-viewer-bench-"))
    site, user = setup(var_dir)
    warm = head_series(site, user, 66, 1, "WARM")
    singles = [head_series(site, user, 70 + i, 1, f"ONE-{i}") for i in range(args.repeat)]
    # The live preview: series no job or prefetch has embedded yet, and series left open long
    # enough for the prefetch to embed them before the drag.
    fresh = [head_series(site, user, 20 + i, 1, f"FRESH-{i}") for i in range(args.repeat)]
    prefetched = [head_series(site, user, 30 + i, 1, f"PREF-{i}") for i in range(args.repeat)]
    volume = head_series(site, user, 40, args.slices, f"VOL-{args.slices}")
    port = free_port()
    services = start_services(var_dir, port)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    from core import processes

    # Playwright's sync API keeps an event loop in this thread, which Django takes for async
    # code; record() reads the job between browser steps, as plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    timings: dict[str, list[float]] = {"2D uncached": [], "2D cached": [], "propagation": []}
    previews: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("MEDSAM_CHROMIUM", "/usr/bin/chromium"),
                headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", user.username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            release_to_overlay(page, base, warm[0].pk, warm[1], 0, timeout_ms)  # loads the engine
            for i, (series, box, _) in enumerate(singles):
                record(timings, "2D uncached",
                       release_to_overlay(page, base, series.pk, box, 0, timeout_ms))
                record(timings, "2D cached",
                       release_to_overlay(page, base, series.pk, box, 1 + i, timeout_ms))
            for (series, box, _), (other, other_box, _) in zip(fresh, prefetched, strict=True):
                open_with_protocol(page, base, series.pk)
                drag = drag_with_preview(page, box, timeout_ms=timeout_ms)
                open_with_protocol(page, base, other.pk)
                page.wait_for_timeout(PREFETCH_WAIT_MS)
                drag["prefetched_first_ms"] = drag_with_preview(
                    page, other_box, seconds=0.5, timeout_ms=timeout_ms)["first_ms"]
                print("preview: " + ", ".join(f"{k} {v:.1f}" for k, v in drag.items()),
                      flush=True)
                for key, value in drag.items():
                    previews.setdefault(key, []).append(value)
            for i in range(args.propagation_repeat):
                record(timings, "propagation",
                       release_to_overlay(page, base, volume[0].pk, volume[1], i, timeout_ms))
            if args.screenshot:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshot))
            browser.close()
    finally:
        processes.stop(services)
    print("release -> overlay drawn, ms (median; all runs):")
    for case, values in timings.items():
        if not values:
            continue
        label = f"{case} ({args.slices} slices)" if case == "propagation" else case
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label:<26} {statistics.median(values):8.0f}   [{runs}]")
    print("live preview while dragging (median; all runs):")
    for key, label in PREVIEW_FIGURES:
        values = previews.get(key, [])
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {label:<44} {statistics.median(values):8.1f}   [{runs}]")
    print("  bytes per slice embedding sent: 0 (the embedding stays on the worker; "
          "a preview answer is the mask's crop)")
    problems = [f"{label}: {v}" for key, label in PREVIEW_FIGURES
                for v in previews.get(key, [None]) if v is None or not v > 0]
    if problems:
        raise SystemExit("live preview figures missing or not positive: " + "; ".join(problems))


if __name__ == "__main__":
    main()
