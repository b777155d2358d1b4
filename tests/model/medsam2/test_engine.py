"""The medsam2 engines on a small random checkpoint: configuration, 2D, volumes, CLI."""

from __future__ import annotations

import nibabel
import numpy as np
import pytest
import torch
from volumes import smooth_volume

from model.cli import main
from model.engines.base import EngineUnavailable, SegmentationCancelled, SegmentOptions
from model.engines.medsam2 import (
    CHECKPOINT_ENV,
    MedSAM2Engine,
    MedSAM2Int8Engine,
    _nearer_pass,
)
from model.engines.registry import engine_names, get_engine
from model.medsam2.checkpoint import save_checkpoint
from model.medsam2.holes import fill_small_holes
from model.preprocess import PromptError
from model.weights import file_sha256

BOX = (20.0, 15.0, 60.0, 45.0)


@pytest.fixture(scope="module")
def checkpoint(tiny_models, tmp_path_factory):
    return save_checkpoint(tiny_models["2.1"], tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="module")
def engine(checkpoint):
    patch = pytest.MonkeyPatch()
    patch.setenv(CHECKPOINT_ENV, str(checkpoint))
    yield MedSAM2Engine(device="cpu")
    patch.undo()


@pytest.fixture(scope="module")
def volume():
    return smooth_volume(7, 64, 80, seed=2)


def test_without_a_checkpoint_both_engines_say_how_to_configure_one(monkeypatch, tmp_path):
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    assert (MedSAM2Engine.queue, MedSAM2Int8Engine.queue) == ("gpu", "cpu")
    for engine_class in (MedSAM2Engine, MedSAM2Int8Engine):
        assert engine_names().count(engine_class.name) == 1
        available, reason = engine_class.availability()
        assert not available and CHECKPOINT_ENV in reason
    with pytest.raises(EngineUnavailable, match="no checkpoint configured"):
        get_engine("medsam2", device="cpu:0")
    monkeypatch.setenv(CHECKPOINT_ENV, str(tmp_path / "gone.pt"))
    assert "does not exist" in MedSAM2Engine.availability()[1]


def test_it_reports_the_loaded_weights_and_their_configuration(engine, checkpoint):
    assert engine.weights_sha256 == file_sha256(checkpoint)
    assert engine.config.name == "sam2.1-hiera-tiny-256"
    assert engine.config_source == "model card tiny.json"


def test_2d_predictions_are_deterministic_and_on_the_original_grid(engine, volume):
    image = volume[3]
    first = engine.predict_2d(image, box=BOX, return_logits=True)
    again = engine.predict_2d(engine.embed_slice(image.copy()), box=BOX)
    assert first.mask.shape == (64, 80) and first.mask.dtype == bool
    assert np.array_equal(first.mask, again.mask) and first.iou == again.iou
    assert np.array_equal(first.mask, first.logits > 0)
    click = engine.predict_2d(image, points=[(40.0, 30.0, 1)])
    assert click.mask.shape == (64, 80)
    with pytest.raises(PromptError, match="outside the image"):
        engine.predict_2d(image, box=(10, 10, 90, 40))


def test_a_volume_propagates_both_ways_from_the_key_slice(engine, volume):
    reports = []
    result = engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX)], modality="MR",
                                   progress=lambda done, total: reports.append((done, total)))
    assert result.mask.shape == volume.shape and result.mask.dtype == np.uint8
    assert result.key_slices == [3]
    assert set(result.stop_reasons) == {"3:up", "3:down"}
    assert reports[-1] == (7, 7) and [d for d, _ in reports] == sorted(d for d, _ in reports)
    key_only = engine.predict_2d(engine.embed_slice(
        np.clip((volume[3] - np.percentile(volume, 0.5))
                / (np.percentile(volume, 99.5) - np.percentile(volume, 0.5)), 0, 1)), box=BOX)
    overlap = np.logical_and(result.mask[3] > 0, key_only.mask).sum()
    assert overlap >= 0.95 * key_only.mask.sum()  # the key slice is the 2D prediction
    assert set(result.per_slice_iou) == {i for i in range(7) if result.mask[i].any()}
    assert {"embed", "decode", "postprocess", "total"} <= set(result.timings)
    again = engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX)], modality="MR")
    assert np.array_equal(again.mask, result.mask)


def test_a_volume_run_can_be_cancelled_and_refuses_two_boxes_on_a_slice(engine, volume):
    with pytest.raises(SegmentationCancelled):
        engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX)], modality="MR",
                              cancelled=lambda: True)
    with pytest.raises(PromptError, match="one box per slice"):
        engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX), (3, BOX)], modality="MR")
    with pytest.raises(ValueError, match="out of range"):
        engine.segment_volume(volume, (2.0, 1.0, 1.0), [(9, BOX)], modality="MR")


def test_slices_between_two_key_slices_take_the_pass_from_the_nearer_one():
    passes = {False: {2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0}, True: {i: 0 for i in range(7)}}
    keys = [2, 6]
    assert [_nearer_pass(i, keys, passes) for i in range(8)] == [
        True, True, False, False, False, True, False, False]


def test_small_background_specks_are_filled_like_sam2():
    logits = torch.full((1, 1, 12, 12), 5.0)
    logits[0, 0, 3:5, 3:5] = -1.0  # a 4-pixel hole
    logits[0, 0, 7:10, 7:10] = -1.0  # a 9-pixel hole
    filled = fill_small_holes(logits, 8)
    assert (filled[0, 0, 3:5, 3:5] == 0.1).all()
    assert (filled[0, 0, 7:10, 7:10] == -1.0).all()
    assert torch.equal(fill_small_holes(logits, 0), logits)


def test_the_2d_stream_remembers_the_prompted_image_deterministically(engine, volume):
    def run():
        stream = engine.stream()
        first = stream.prompt(volume[3], box=BOX)
        rest = [stream.segment(volume[i]) for i in (2, 4, 5)]
        return stream, first, rest

    stream, first, rest = run()
    assert first.bank.action == "appended" and len(stream.bank) == 4
    assert all(r.logits.shape == (64, 80) for r in rest)
    _, _, repeat = run()
    for a, b in zip(rest, repeat, strict=True):
        assert torch.equal(a.logits, b.logits)


def test_the_int8_engine_runs_on_the_cpu_only_and_agrees_roughly(engine, checkpoint, volume,
                                                                 monkeypatch):
    monkeypatch.setenv(CHECKPOINT_ENV, str(checkpoint))
    with pytest.raises(EngineUnavailable, match="CPU only"):
        MedSAM2Int8Engine(device="cuda")
    int8 = MedSAM2Int8Engine()
    assert int8.weights_sha256 == engine.weights_sha256
    ours = int8.predict_2d(volume[3], box=BOX, return_logits=True)
    reference = engine.predict_2d(volume[3], box=BOX, return_logits=True)
    assert np.corrcoef(ours.logits.ravel(), reference.logits.ravel())[0, 1] > 0.9


def test_the_cli_segments_with_a_given_checkpoint(checkpoint, volume, tmp_path, capsys,
                                                 monkeypatch):
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    source = tmp_path / "mr.nii.gz"
    nibabel.save(nibabel.Nifti1Image(np.transpose(volume * 1000, (2, 1, 0)), np.eye(4)),
                 str(source))
    out = tmp_path / "mask.nii.gz"
    code = main(["segment", "--engine", "medsam2", "--checkpoint", str(checkpoint),
                 "--input", str(source), "--slice", "3", "--box", "20,15,60,45",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"weights sha256: {file_sha256(checkpoint)}" in printed
    assert out.is_file()
    code = main(["segment", "--engine", "medsam2", "--checkpoint", str(tmp_path / "no.pt"),
                 "--input", str(source), "--slice", "3", "--box", "20,15,60,45",
                 "--out", str(out)])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_nothing_is_kept_outside_the_marked_first_and_last_slice(engine, volume):
    free = engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX)], modality="MR")
    marked = engine.segment_volume(volume, (2.0, 1.0, 1.0), [(3, BOX)], modality="MR",
                                   options=SegmentOptions(extent=(2, 4)))
    assert not marked.mask[:2].any() and not marked.mask[5:].any()
    np.testing.assert_array_equal(marked.mask[2:5], free.mask[2:5])
    assert set(marked.per_slice_iou) <= {2, 3, 4}
    with pytest.raises(ValueError, match="outside the marked extent"):
        engine.segment_volume(volume, (2.0, 1.0, 1.0), [(5, BOX)], modality="MR",
                              options=SegmentOptions(extent=(2, 4)))
