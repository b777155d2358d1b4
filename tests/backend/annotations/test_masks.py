import numpy as np

from annotations import masks


def test_it_round_trips_a_mask_through_its_stored_form():
    rng = np.random.default_rng(1)
    mask = (rng.random((7, 33, 17)) > 0.7).astype(np.uint8)
    data = masks.encode(mask)
    assert np.array_equal(masks.decode(data, mask.shape), mask)


def test_a_typical_organ_mask_compresses_well():
    mask = np.zeros((60, 256, 256), np.uint8)
    mask[10:50, 80:160, 90:170] = 1
    assert len(masks.encode(mask)) < mask.size / 8 / 20


def test_it_measures_volume_and_extent():
    mask = np.zeros((10, 20, 20), np.uint8)
    mask[2:6, 5:10, 5:10] = 1
    stats = masks.stats(mask, (2.0, 0.5, 0.5))
    assert stats.voxel_count == 100
    assert stats.volume_ml == 100 * 0.5 / 1000
    assert stats.slice_range == (2, 5)
    assert stats.extent_mm == 8.0


def test_the_content_hash_depends_on_every_voxel():
    mask = np.zeros((2, 4, 4), np.uint8)
    other = mask.copy()
    other[1, 3, 3] = 1
    assert masks.content_sha256(mask) != masks.content_sha256(other)
    assert masks.dice(mask, other) == 0.0
    assert masks.dice(other, other) == 1.0


def test_it_refuses_data_of_another_size_instead_of_padding_it():
    import pytest

    small = masks.encode(np.ones((3, 10, 10), np.uint8))
    with pytest.raises(ValueError, match="does not hold"):
        masks.decode(small, (3, 256, 256))
    large = masks.encode(np.ones((3, 300, 256), np.uint8))
    with pytest.raises(ValueError, match="does not hold"):
        masks.decode(large, (3, 256, 256))
