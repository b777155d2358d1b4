"""Command line: list engines, segment a volume from one box.

    python -m model engines
    python -m model segment --input CT.nii.gz --slice 60 --box 40,50,200,210 \
        --window 40,80 --out mask.nii.gz [--engine litemedsam-int8] [--no-propagate] \
        [--reference truth.nii.gz] [--checkpoint MedSAM2.pt  (for --engine medsam2*)]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.engines.base import EngineUnavailable, SegmentOptions
from model.engines.medsam2 import CHECKPOINT_ENV
from model.engines.registry import DEFAULT_CPU_ENGINE, engine_names, get_engine, list_engines
from model.imaging import ImagingError, read_volume, volume_format, write_mask
from model.postprocess import dice
from model.preprocess import PromptError, ResizeGeometry, normalise_intensity


class UsageError(Exception):
    """A problem with the command's arguments or inputs, reported without a traceback."""


def _numbers(text: str, count: int, what: str) -> tuple[float, ...]:
    parts = text.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != count:
        raise UsageError(f"{what} must be {count} comma-separated numbers, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("engines", help="list engines, whether each is available and why not")
    segment = commands.add_parser("segment", help="segment a volume from a box on one slice")
    segment.add_argument("--input", required=True,
                         help="NIfTI or NRRD file, or a folder holding one DICOM series")
    segment.add_argument("--slice", required=True, type=int,
                         help="index K of the key slice along the volume's last stored axis")
    segment.add_argument("--box", required=True,
                         help="X0,Y0,X1,Y1 in voxel (column, row) coordinates of slice K")
    segment.add_argument("--engine", default=DEFAULT_CPU_ENGINE, help=f"one of {engine_names()}")
    segment.add_argument("--window", help="CT window LEVEL,WIDTH in HU (default: percentiles)")
    segment.add_argument("--no-propagate", action="store_true",
                         help="segment the key slice only")
    segment.add_argument("--out", required=True, help="output mask, .nii.gz or .nrrd")
    segment.add_argument("--reference", help="a reference mask: print the Dice against it")
    segment.add_argument("--checkpoint",
                         help="MedSAM-2 checkpoint for the medsam2 engines (sets "
                              "$MEDSAM2_CHECKPOINT for this run)")
    return parser


def _list_engines() -> int:
    for info in list_engines():
        state = "available" if info.available else f"unavailable: {info.reason}"
        print(f"{info.name:<20} queue={info.queue:<4} {state}")
        print(f"{'':<20} {info.description}")
    return 0


def _segment(args: argparse.Namespace) -> int:
    box = _numbers(args.box, 4, "--box")
    window = _numbers(args.window, 2, "--window") if args.window else None
    if window is not None and window[1] <= 0:
        raise UsageError(f"--window width must be positive, got {window[1]:g}")
    if volume_format(args.out) is None:
        raise UsageError(f"--out must end in .nii.gz, .nii or .nrrd, got {args.out!r}")
    if args.engine not in engine_names():
        raise UsageError(f"unknown engine {args.engine!r}; choose one of {engine_names()}")
    if args.checkpoint:
        if not Path(args.checkpoint).is_file():
            raise UsageError(f"--checkpoint {args.checkpoint!r} does not exist")
        os.environ[CHECKPOINT_ENV] = str(Path(args.checkpoint).resolve())
    if not Path(args.input).exists():
        raise UsageError(f"--input {args.input!r} does not exist")
    try:
        volume = read_volume(args.input)
    except (ImagingError, OSError) as error:
        raise UsageError(f"cannot read --input: {error}") from error
    slices, rows, cols = volume.shape
    if not 0 <= args.slice < slices:
        raise UsageError(f"--slice {args.slice} is out of range: the volume has slices "
                         f"0..{slices - 1}")
    try:
        ResizeGeometry.for_shape((rows, cols), 256).check_box(box)
    except PromptError as error:
        raise UsageError(f"--box: {error}") from error
    reference = None
    if args.reference:
        try:
            reference = read_volume(args.reference).voxels > 0
        except (ImagingError, OSError) as error:
            raise UsageError(f"cannot read --reference: {error}") from error
        if reference.shape != volume.shape:
            raise UsageError(f"--reference has shape {reference.shape}, the input "
                             f"{volume.shape} (slices, rows, cols)")

    modality = volume.modality or ("CT" if window else "OT")
    started = time.perf_counter()
    engine = get_engine(args.engine)
    loaded = time.perf_counter()
    if args.no_propagate:
        image = normalise_intensity(volume.voxels[args.slice], modality, window)
        mask = np.zeros(volume.shape, np.uint8)
        mask[args.slice] = engine.predict_2d(image, box=box).mask
    else:
        col_mm, row_mm, slice_mm = volume.spacing
        result = engine.segment_volume(
            volume.voxels, (slice_mm, row_mm, col_mm), [(args.slice, box)], window=window,
            modality=modality, options=SegmentOptions(),
            progress=lambda done, total: print(f"\rslices {done}/{total}", end="",
                                               file=sys.stderr, flush=True),
        )
        print(file=sys.stderr)
        mask = result.mask
    finished = time.perf_counter()
    try:
        write_mask(mask, volume, args.out)
    except (ImagingError, OSError) as error:
        raise UsageError(f"cannot write --out: {error}") from error

    print(f"engine: {engine.name} {engine.version} on {engine.device}")
    print(f"weights sha256: {engine.weights_sha256}")
    print(f"time: {finished - started:.2f} s ({loaded - started:.2f} s loading, "
          f"{finished - loaded:.2f} s segmenting)")
    print(f"slices with mask: {int(mask.any(axis=(1, 2)).sum())} of {slices}")
    print(f"wrote {args.out}")
    if reference is not None:
        print(f"dice: {dice(mask, reference):.4f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "engines":
            return _list_engines()
        return _segment(args)
    except (UsageError, EngineUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
