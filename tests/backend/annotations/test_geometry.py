import pytest

from annotations.geometry import GeometryError, validate_extent, validate_geometry

BOX_TEMPLATE = {"tool": "box", "count": 1, "placement": "x" * 10,
                "tolerance": {"value": 5, "unit": "mm"}}
SHAPE = (20, 256, 200)  # slices, rows, cols


def fails(raw, template=BOX_TEMPLATE) -> GeometryError:
    with pytest.raises(GeometryError) as error:
        validate_geometry(raw, template, SHAPE)
    return error.value


def test_it_accepts_one_box_inside_the_image():
    (prompt,) = validate_geometry({"prompts": [{"slice": 3, "box": [10, 20, 110, 120]}]},
                                  BOX_TEMPLATE, SHAPE)
    assert prompt.slice == 3
    assert prompt.box == (10.0, 20.0, 110.0, 120.0)


def test_it_refuses_a_box_outside_the_image():
    error = fails({"prompts": [{"slice": 3, "box": [10, 20, 210, 120]}]})
    assert "outside the image (200 x 256 pixels)" in error.message
    assert error.field == "prompts[0].box"


@pytest.mark.parametrize("box", [[50, 50, 50, 90], [90, 90, 50, 50], [10, 10, 11, 40]])
def test_it_refuses_an_empty_inverted_or_tiny_box(box):
    assert "empty or too small" in fails({"prompts": [{"slice": 1, "box": box}]}).message


def test_it_refuses_a_missing_slice():
    error = fails({"prompts": [{"slice": 20, "box": [1, 1, 50, 50]}]})
    assert error.message == "Slice 20 does not exist: this series has slices 0 to 19."


def test_it_counts_boxes_against_the_template():
    two = {"prompts": [{"slice": 1, "box": [1, 1, 50, 50]}, {"slice": 2, "box": [1, 1, 50, 50]}]}
    assert fails(two).message == "This protocol asks for exactly 1 box; 2 given."
    assert fails({"prompts": []}).message == "This protocol asks for exactly 1 box; 0 given."


def test_it_refuses_clicks_where_a_box_is_asked_for():
    error = fails({"prompts": [{"slice": 1, "points": [[5, 5, 1]]}]})
    assert error.message == "This protocol asks for a box, not clicks."


def test_it_checks_clicks_against_a_click_template():
    template = {**BOX_TEMPLATE, "tool": "click", "count": 2}
    (prompt,) = validate_geometry({"prompts": [{"slice": 0, "points": [[5, 5, 1], [9, 9, 0]]}]},
                                  template, SHAPE)
    assert prompt.points == ((5.0, 5.0, 1), (9.0, 9.0, 0))
    assert "label must be 1" in fails({"prompts": [{"slice": 0, "points": [[5, 5, 7]]}]},
                                      template).message


@pytest.mark.parametrize("raw", [None, [], {"prompts": "x"}, {"prompts": [5]},
                                 {"prompts": [{"slice": "1", "box": [1, 1, 9, 9]}]},
                                 {"prompts": [{"slice": 1, "box": [1, 1, 9]}]},
                                 {"prompts": [{"slice": 1, "box": [1, 1, "9", 9]}]},
                                 {"prompts": [{"slice": 1, "box": [1, 1, float("nan"), 9]}]},
                                 {"prompts": [{"slice": True, "box": [1, 1, 9, 9]}]}])
def test_it_refuses_malformed_geometry_with_a_reason(raw):
    assert fails(raw).message


PER_PART = {"tool": "box", "count": 9, "count_min": 3, "boxes_per_part": True,
            "slice": "largest_and_quarters", "placement": "x" * 10,
            "tolerance": {"value": 3, "unit": "mm"}}


def boxes(*slices):
    return {"prompts": [{"slice": s, "box": [1 + 15 * i, 1, 14 + 15 * i, 50]}
                        for i, s in enumerate(slices)]}


def test_a_box_per_part_protocol_takes_several_boxes_on_a_slice_over_three_slices():
    prompts = validate_geometry(boxes(2, 8, 8, 14), PER_PART, SHAPE)
    assert [p.slice for p in prompts] == [2, 8, 8, 14]


def test_a_box_per_part_protocol_refuses_too_few_or_too_many_boxes_and_other_slice_counts():
    assert fails(boxes(2, 8), PER_PART).message == (
        "This protocol asks for 3 to 9 boxes; 2 given.")
    assert "asks for 3 to 9 boxes; 10 given" in fails(boxes(*[1, 2, 3] * 3, 4), PER_PART).message
    assert "on 3 different slices" in fails(boxes(2, 2, 8), PER_PART).message
    assert "on 3 different slices" in fails(boxes(2, 5, 8, 11), PER_PART).message


def test_without_boxes_per_part_two_boxes_on_one_slice_are_refused():
    template = {**PER_PART, "boxes_per_part": False, "count": 3}
    assert fails(boxes(2, 2, 8), template).message == "Two prompts are on the same slice."


EXTENT_TEMPLATE = {**BOX_TEMPLATE, "extent": "required", "extent_tolerance_mm": 3}
ONE_BOX = [{"slice": 8, "box": [1, 1, 50, 50]}]


def extent_fails(raw, template=EXTENT_TEMPLATE) -> GeometryError:
    prompts = validate_geometry(raw, template, SHAPE)
    with pytest.raises(GeometryError) as error:
        validate_extent(raw, template, SHAPE, prompts)
    return error.value


def test_an_extent_protocol_takes_the_first_and_last_slice_around_the_key_slice():
    raw = {"prompts": ONE_BOX, "extent": {"first": 5, "last": 12}}
    prompts = validate_geometry(raw, EXTENT_TEMPLATE, SHAPE)
    assert validate_extent(raw, EXTENT_TEMPLATE, SHAPE, prompts) == (5, 12)
    assert validate_extent({"prompts": ONE_BOX}, BOX_TEMPLATE, SHAPE, prompts) is None
    assert validate_extent({"prompts": ONE_BOX, "extent": {"first": 8, "last": 8}},
                           EXTENT_TEMPLATE, SHAPE, prompts) == (8, 8)


@pytest.mark.parametrize("extent, field, words", [
    (None, "extent", "asks for the structure's first and last slice"),
    ({"last": 12}, "extent.first", "extent.first must be a whole slice number"),
    ({"first": 5, "last": 20}, "extent.last", "Slice 20 does not exist"),
    ({"first": -1, "last": 12}, "extent.first", "Slice -1 does not exist"),
    ({"first": 12, "last": 5}, "extent.last", "comes before the first"),
    ({"first": 9, "last": 12}, "extent", "The key slice 8 lies outside"),
    ({"first": 2, "last": 7}, "extent", "The key slice 8 lies outside"),
])
def test_an_extent_protocol_refuses_a_missing_or_misplaced_end_naming_the_field(extent, field,
                                                                                words):
    raw = {"prompts": ONE_BOX, **({} if extent is None else {"extent": extent})}
    error = extent_fails(raw)
    assert (error.field, words in error.message) == (field, True)


def test_an_extent_is_refused_where_the_protocol_does_not_ask_for_it():
    error = extent_fails({"prompts": ONE_BOX, "extent": {"first": 5, "last": 12}}, BOX_TEMPLATE)
    assert error.field == "extent" and "does not ask" in error.message
