"""3D accuracy of the shipped engines from the library's standard prompts, on a real abdominal CT.

    .venv/bin/python bench/propagation_accuracy.py [--engines litemedsam,litemedsam-int8]
        [--structures spleen,liver] [--jitter 3] [--seed 7] [--json out.json] [--smoke]

Data: TotalSegmentator 2.18.0's ``example_ct_sm.nii.gz`` (122x101x30, 3 mm) and its reference
masks ``example_seg.nii.gz`` (TotalSegmentator's own output, not manual ground truth), fetched
at setup by ``scripts/bootstrap.sh`` into ``var/reference_data``. Both are turned the way the
viewer shows them (anterior up, patient right on the left) before anything is prompted.

For every one of the 12 abdominal structures whose library entry exists, and for each engine,
one row:
- **2D**: the ceiling of box chaining, the reference's tight box on every slice it covers;
- **3D**: the entry's standard prompt (``model.protocol.standard_prompts``: its key slices and
  boxes, tight on the reference; with ``extent: required`` also the reference's first and last
  slice, ``standard_extent``) and the entry's propagation and post-processing options, as
  a job runs it;
- **3D jit**: the same with the entry's placement tolerance applied to each box edge, and its
  ``extent_tolerance_mm`` to each end slice, as seeded uniform jitter, mean over ``--jitter``
  draws;
- **+1, +2**: after one and two corrections in one action (``model.correction``, as the
  viewer's "Correct with a box" runs them: only the affected run of slices is re-segmented),
  each the reference's box (one per part with ``boxes_per_part``) on the slice where the
  previous result is most wrong among the slices the reference covers;
- the seconds each takes (embeddings are cached per slice, as on a worker; the 2D column pays
  for embedding every slice once).
Means over the structures end the table. Deterministic for a given ``--seed``.

--smoke: one structure on a 5-slice slab, the fp32 engine, one jitter draw (seconds).
Exits non-zero when data is missing or a Dice is not a number in [0, 1].
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from model.correction import correct_with_engine  # noqa: E402
from model.engines.registry import get_engine  # noqa: E402
from model.imaging.reference_cases import load_abdominal_ct  # noqa: E402
from model.imaging.reference_data import (  # noqa: E402
    CT_LABELS,
    ENTRY_OF_LABEL,
    available,
    reference_dir,
)
from model.postprocess import dice  # noqa: E402
from model.preprocess import normalise_intensity  # noqa: E402
from model.protocol import (  # noqa: E402
    corrective_prompt,
    extent_tolerance_mm,
    jittered,
    jittered_extent,
    key_slice,
    reference_box,
    segment_options,
    standard_extent,
    standard_prompts,
    window_tuple,
)

LIBRARY = ROOT / "prompt_library" / "structures"
COLUMNS = ("2D", "3D", "3D jit", "+1", "+2")


load_case = load_abdominal_ct


def entry(key: str) -> dict:
    return yaml.safe_load((LIBRARY / f"{key}.yaml").read_text())


def ceiling_2d(engine, normalised: np.ndarray, reference: np.ndarray) -> np.ndarray:
    predicted = np.zeros(reference.shape, bool)
    for index in np.flatnonzero(reference.reshape(len(reference), -1).any(axis=1)):
        handle = engine.embed_slice(normalised[index])
        predicted[index] = engine.predict_2d(handle, box=reference_box(reference[index])).mask
    return predicted


def measure(engine, hu, reference, spacing_zyx, content, jitter_draws, rng) -> dict:
    window = window_tuple(content)
    options = segment_options(content, spacing_zyx[0])
    normalised = normalise_intensity(hu, "CT", window)
    row: dict = {"dice": {}, "seconds": {}}

    def timed(name, function):
        started = time.perf_counter()
        value = function()
        row["seconds"][name] = time.perf_counter() - started
        return value

    def volume(prompts, extent=None):
        chosen = options if extent is None else dataclasses.replace(options, extent=extent)
        return engine.segment_volume(hu, spacing_zyx, prompts, window=window, modality="CT",
                                     options=chosen)

    row["dice"]["2D"] = dice(timed("2D", lambda: ceiling_2d(engine, normalised, reference)),
                             reference)
    prompts = standard_prompts(content, reference)
    extent = standard_extent(content, reference)
    result = timed("3D", lambda: volume(prompts, extent))
    row["dice"]["3D"] = dice(result.mask, reference)
    row["stop_reasons"] = result.stop_reasons

    tolerance = float(content.get("interaction", {}).get("tolerance", {}).get("value", 0.0))
    shape = reference.shape[1:]
    draws = []
    started = time.perf_counter()
    keys = sorted({s for s, _ in prompts})
    for _ in range(jitter_draws):
        moved = [(s, jittered(b, tolerance, spacing_zyx[1:], shape, rng)) for s, b in prompts]
        ends = None if extent is None else jittered_extent(
            extent, extent_tolerance_mm(content), spacing_zyx[0], len(reference), keys, rng)
        draws.append(dice(volume(moved, ends).mask, reference))
    row["dice"]["3D jit"] = statistics.fmean(draws) if draws else float("nan")
    row["seconds"]["3D jit"] = (time.perf_counter() - started) / max(1, jitter_draws)

    anchors, mask = sorted({s for s, _ in prompts}), result.mask
    for label in ("+1", "+2"):
        correction = corrective_prompt(content, mask, reference, exclude=set(anchors))
        row["seconds"][label] = 0.0
        if correction is not None:
            index, boxes = correction
            try:
                corrected = timed(label, lambda draft=mask, at=index, boxes=boxes, keys=anchors,
                                  ends=extent: correct_with_engine(
                                      engine, hu, spacing_zyx, draft, at, boxes, window=window,
                                      modality="CT", options=options, anchors=keys,
                                      extent=ends))
                mask, extent = corrected.mask, corrected.extent
            except ValueError:  # the box found nothing there: the clinician would move on
                pass
            anchors = sorted({*anchors, index})
        row["dice"][label] = dice(mask, reference)
    return row


def prepare_case(parser, args):
    """The CT, its labels, spacing and the structures asked for (``--structures``), torch on
    ``--threads``; with ``--smoke`` a 5-slice slab around the first structure's largest slice
    stands in for the CT. None (after saying why) when the reference data is missing."""
    if not available():
        print(f"reference data missing under {reference_dir()}: run scripts/bootstrap.sh",
              file=sys.stderr)
        return None
    torch.set_num_threads(args.threads)
    hu, labels, spacing_zyx = load_case()
    structures = [s for s in args.structures.split(",") if s]
    unknown = [s for s in structures if s not in CT_LABELS]
    if unknown:
        parser.error(f"unknown structures {unknown}; choose from {sorted(CT_LABELS)}")
    if args.smoke:
        key = key_slice(labels == CT_LABELS[structures[0]])
        slab = slice(max(0, key - 2), key + 3)
        hu, labels = np.ascontiguousarray(hu[slab]), np.ascontiguousarray(labels[slab])
    return hu, labels, spacing_zyx, structures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="litemedsam,litemedsam-int8")
    parser.add_argument("--structures", default=",".join(CT_LABELS))
    parser.add_argument("--jitter", type=int, default=3, help="jittered draws per structure")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--verbose", action="store_true", help="print why each run stopped")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.engines, args.structures, args.jitter = "litemedsam", "spleen", 1
    case = prepare_case(parser, args)
    if case is None:
        return 2
    hu, labels, spacing_zyx, structures = case

    rows = []
    header = f"{'structure':<30} {'engine':<16}" + "".join(f"{c:>8}" for c in COLUMNS)
    print(header + "   seconds (2D / 3D / jit / +1 / +2)")
    for engine_name in [e for e in args.engines.split(",") if e]:
        engine = get_engine(engine_name)
        rng = np.random.default_rng(args.seed)
        for name in structures:
            reference = labels == CT_LABELS[name]
            if not reference.any():
                print(f"{name:<30} {engine_name:<16} (absent from this volume)")
                continue
            content = entry(ENTRY_OF_LABEL[name])
            row = measure(engine, hu, reference, spacing_zyx, content, args.jitter, rng)
            row.update(structure=name, engine=engine_name)
            rows.append(row)
            seconds = " / ".join(f"{row['seconds'][c]:.1f}" for c in COLUMNS)
            print(f"{name:<30} {engine_name:<16}"
                  + "".join(f"{row['dice'][c]:>8.3f}" for c in COLUMNS) + f"   {seconds}")
            if args.verbose:
                print(f"{'':<48}stops: {row['stop_reasons']}")

    for engine_name in [e for e in args.engines.split(",") if e]:
        mine = [r for r in rows if r["engine"] == engine_name]
        if mine:
            means = {c: statistics.fmean(r["dice"][c] for r in mine) for c in COLUMNS}
            print(f"{'mean of ' + str(len(mine)):<30} {engine_name:<16}"
                  + "".join(f"{means[c]:>8.3f}" for c in COLUMNS))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    bad = [r for r in rows for c in COLUMNS if not 0.0 <= r["dice"][c] <= 1.0]
    if bad or not rows:
        print("a Dice is not in [0, 1], or nothing was measured", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
