"""3D accuracy on the real abdominal reference CT (TotalSegmentator 2.18.0's example CT and its
reference masks, fetched at setup), measured as ``bench/propagation_accuracy.py`` measures it:
the fp32 engine, each entry's standard prompt placed on the reference mask (with its first and
last slice where the entry asks for them), then two corrections in one action on the slices of
largest error.

The floors are the bench's figures from one full run (2026-12-07, see the issue 18 notes; the
adrenals from the run of their extent protocol, ``--structures adrenal_gland_right,
adrenal_gland_left``) less a margin of 0.03 per structure, so a change that loses accuracy
fails here; the means are held at the issue's targets (3D at least 0.77, after two
corrections at least 0.80). The engine is deterministic on one machine; the margin absorbs
other CPUs' floating-point differences."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import numpy as np
import pytest
import yaml

from model.correction import correct_with_engine
from model.imaging.reference_cases import load_abdominal_ct
from model.imaging.reference_data import CT_LABELS, ENTRY_OF_LABEL, available, reference_dir
from model.postprocess import dice
from model.protocol import (
    corrective_prompt,
    segment_options,
    standard_extent,
    standard_prompts,
    window_tuple,
)

LIBRARY = Path(__file__).resolve().parents[2] / "prompt_library" / "structures"
MARGIN = 0.03
# bench/propagation_accuracy.py, litemedsam (fp32), one run: 3D, then after two corrections.
BENCH_3D = {
    "spleen": 0.942, "kidney_right": 0.908, "kidney_left": 0.920, "gallbladder": 0.871,
    "liver": 0.876, "stomach": 0.915, "pancreas": 0.575, "adrenal_gland_right": 0.543,
    "adrenal_gland_left": 0.692, "aorta": 0.869, "inferior_vena_cava": 0.813,
    "portal_vein_and_splenic_vein": 0.607,
}
BENCH_PLUS_2 = {
    "spleen": 0.944, "kidney_right": 0.910, "kidney_left": 0.923, "gallbladder": 0.920,
    "liver": 0.898, "stomach": 0.921, "pancreas": 0.664, "adrenal_gland_right": 0.630,
    "adrenal_gland_left": 0.717, "aorta": 0.885, "inferior_vena_cava": 0.832,
    "portal_vein_and_splenic_vein": 0.652,
}


@pytest.fixture(scope="module")
def abdomen():
    if not available():
        message = f"{reference_dir()} is missing: run scripts/bootstrap.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return load_abdominal_ct()


@pytest.fixture(scope="module")
def outcomes(abdomen, fp32_engine):
    hu, labels, spacing = abdomen
    rows = {}
    for name, label in CT_LABELS.items():
        reference = labels == label
        content = yaml.safe_load((LIBRARY / f"{ENTRY_OF_LABEL[name]}.yaml").read_text())
        prompts, extent = standard_prompts(content, reference), standard_extent(content, reference)
        window, options = window_tuple(content), segment_options(content, spacing[0], extent)
        draft = fp32_engine.segment_volume(hu, spacing, prompts, window=window, modality="CT",
                                           options=options).mask
        anchors, mask, corrections = sorted({s for s, _ in prompts}), draft, []
        for _ in range(2):
            correction = corrective_prompt(content, mask, reference, exclude=set(anchors))
            if correction is None:
                break
            index, boxes = correction
            try:
                outcome = correct_with_engine(fp32_engine, hu, spacing, mask, index, boxes,
                                              window=window, modality="CT", options=options,
                                              anchors=anchors, extent=extent)
            except ValueError:
                outcome = None
            if outcome is not None:
                corrections.append((mask, outcome))
                mask, extent = outcome.mask, outcome.extent
            anchors = sorted({*anchors, index})
        rows[name] = {"3D": dice(draft, reference), "+2": dice(mask, reference),
                      "corrections": corrections}
    return rows


@pytest.mark.parametrize("name", sorted(CT_LABELS))
def test_each_structure_holds_its_bench_figures(outcomes, name):
    row = outcomes[name]
    assert row["3D"] >= BENCH_3D[name] - MARGIN, (name, row["3D"])
    assert row["+2"] >= BENCH_PLUS_2[name] - MARGIN, (name, row["+2"])


def test_the_means_meet_the_targets(outcomes):
    assert statistics.fmean(r["3D"] for r in outcomes.values()) >= 0.77
    assert statistics.fmean(r["+2"] for r in outcomes.values()) >= 0.80


def test_a_correction_changes_only_its_run_of_slices(outcomes):
    checked = 0
    for row in outcomes.values():
        for before, outcome in row["corrections"]:
            outside = np.r_[0:outcome.first, outcome.last + 1:len(before)]
            np.testing.assert_array_equal(outcome.mask[outside], before[outside])
            checked += 1
    assert checked >= 12
