"""Ingest throughput for a 300-slice series, as a ratio to pydicom's raw read-and-decode.

pydicom reading and decoding the same files is the practical limit of any ingest; the ratio
(ours / pydicom, medians of several runs, side by side) shows the cost of checks, hashing,
storage and database rows. Run: .venv/bin/python bench/imaging_ingest.py [--slices 300]
[--smoke] (--smoke: 5 slices, one run, seconds; exits non-zero when a slice is not imported).
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", default="693_UNCI.dcm", help="a real 512x512 CT slice")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    if args.smoke:
        args.slices, args.runs = 5, 1
    work = Path(tempfile.mkdtemp(prefix="imaging-bench-"))
    os.environ["MEDSAM_VAR_DIR"] = str(work)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    import pydicom
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from accounts.models import Site
    from imaging.actions import do_ingest
    from tests.model.imaging.dicom_builders import build_series, to_bytes

    setup_test_environment()
    call_command("migrate", verbosity=0)
    site, _ = Site.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    ours, theirs = [], []
    for run in range(args.runs):
        files = [to_bytes(d) for d in build_series(args.slices, source=args.source)]
        start = time.perf_counter()
        for data in files:
            pydicom.dcmread(io.BytesIO(data)).pixel_array  # noqa: B018 (the decode is the point)
        theirs.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = do_ingest(
            ((f"{run}-{k}.dcm", io.BytesIO(d), len(d)) for k, d in enumerate(files)), site=site
        )
        ours.append(time.perf_counter() - start)
        if report.count("imported") != args.slices:
            sys.exit(f"{report.count('imported')} of {args.slices} slices imported: "
                     f"{report.as_dict()['files'][:3]}")
    mine, limit = statistics.median(ours), statistics.median(theirs)
    print(f"{args.slices} slices of {args.source}, median of {args.runs} runs")
    print(f"pydicom read+decode: {limit:.2f} s ({args.slices / limit:.0f} slices/s)")
    print(f"our ingest:          {mine:.2f} s ({args.slices / mine:.0f} slices/s)")
    print(f"ratio ingest / pydicom: {mine / limit:.2f}x")


if __name__ == "__main__":
    main()
