"""`python -m model`: listing engines, segmenting a file, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nibabel
import numpy as np
import pytest
from head_ct import BRAIN_WINDOW, box_of, brain_mask

from model.cli import main

REPO = Path(__file__).resolve().parents[2]


def write_nifti(path: Path, voxels_zyx: np.ndarray, spacing_zyx=(1.5, 0.9, 0.9)) -> Path:
    """voxels[k, j, i] == nifti_data[i, j, k]."""
    affine = np.diag([spacing_zyx[2], spacing_zyx[1], spacing_zyx[0], 1.0])
    nibabel.save(nibabel.Nifti1Image(np.transpose(voxels_zyx, (2, 1, 0)), affine), str(path))
    return path


@pytest.fixture(scope="module")
def small_input(tmp_path_factory) -> Path:
    volume = np.full((4, 40, 50), -1000, np.float32)
    return write_nifti(tmp_path_factory.mktemp("cli") / "small.nii.gz", volume)


def test_engines_lists_every_engine_and_its_availability():
    done = subprocess.run([sys.executable, "-m", "model", "engines"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "litemedsam " in done.stdout and "litemedsam-int8" in done.stdout
    assert "available" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slice", "1", "--box", "10,10,60,20"], "outside the image"),
        (["--slice", "1", "--box", "10,10,10,20"], "empty"),
        (["--slice", "4", "--box", "10,10,20,20"], "out of range: the volume has slices 0..3"),
        (["--slice", "1", "--box", "10,10,20"], "4 comma-separated numbers"),
    ],
)
def test_bad_prompts_are_reported_before_any_model_runs(small_input, tmp_path, capsys, args,
                                                        message):
    out = tmp_path / "mask.nii.gz"
    code = main(["segment", "--input", str(small_input), "--out", str(out), *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_unreadable_input_is_reported(tmp_path, capsys):
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"this is not a nifti file")
    code = main(["segment", "--input", str(broken), "--slice", "0", "--box", "1,1,5,5",
                 "--out", str(tmp_path / "m.nii.gz")])
    assert code == 2
    assert "cannot read --input" in capsys.readouterr().err


def test_it_segments_the_brain_of_a_real_head_ct_and_prints_dice(head_ct, tmp_path, capsys):
    first, key, last = 62, 66, 70
    hu = head_ct.hu[first:last + 1]
    truth = np.stack([brain_mask(s) for s in hu]).astype(np.uint8)
    source = write_nifti(tmp_path / "head.nii.gz", hu, head_ct.spacing_zyx)
    reference = write_nifti(tmp_path / "truth.nii.gz", truth.astype(np.float32),
                            head_ct.spacing_zyx)
    x0, y0, x1, y1 = box_of(truth[key - first])
    out = tmp_path / "brain.nrrd"
    code = main(["segment", "--input", str(source), "--slice", str(key - first),
                 "--box", f"{x0},{y0},{x1},{y1}", "--window", ",".join(map(str, BRAIN_WINDOW)),
                 "--engine", "litemedsam-int8", "--out", str(out), "--reference",
                 str(reference)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "engine: litemedsam-int8" in printed
    assert "weights sha256: 79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76" \
        in printed
    assert "time:" in printed
    dice_value = float(printed.split("dice: ")[1].split()[0])
    assert dice_value > 0.85

    from model.imaging import read_volume

    written = read_volume(out)
    assert written.voxels.shape == hu.shape
    assert written.voxels.any(axis=(1, 2)).all()
