"""The user's prompt geometry, checked against a prompt entry's interaction template.

No Django here. Coordinates are pixels of the series' slices: x a column, y a row; a box is
(x0, y0, x1, y1) with x0 < x1 and y0 < y1 inside [0, cols] x [0, rows].
"""
from dataclasses import dataclass

from model.protocol import MULTI_SLICE_RULES, asks_extent

MIN_BOX_SIDE_PX = 2.0


class GeometryError(ValueError):
    """The geometry does not fit the template; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SlicePrompt:
    slice: int
    box: tuple[float, float, float, float] | None = None
    points: tuple[tuple[float, float, int], ...] | None = None

    def as_json(self) -> dict:
        if self.box is not None:
            return {"slice": self.slice, "box": list(self.box)}
        return {"slice": self.slice, "points": [list(p) for p in self.points or ()]}


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeometryError(field, f"{field} must be a number.")
    if value != value or value in (float("inf"), float("-inf")):
        raise GeometryError(field, f"{field} must be a finite number.")
    return float(value)


def _slice_index(value, field: str, slices: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GeometryError(field, f"{field} must be a whole slice number.")
    if not 0 <= value < slices:
        raise GeometryError(
            field, f"Slice {value} does not exist: this series has slices 0 to {slices - 1}."
        )
    return value


def _box(value, field: str, rows: int, cols: int) -> tuple[float, float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise GeometryError(field, f"{field} must be four numbers [x0, y0, x1, y1].")
    x0, y0, x1, y1 = (_number(v, f"{field}[{i}]") for i, v in enumerate(value))
    if x1 - x0 < MIN_BOX_SIDE_PX or y1 - y0 < MIN_BOX_SIDE_PX:
        raise GeometryError(
            field,
            f"The box is empty or too small: draw it from the top-left to the bottom-right "
            f"corner, at least {MIN_BOX_SIDE_PX:g} pixels wide and high.",
        )
    if x0 < 0 or y0 < 0 or x1 > cols or y1 > rows:
        raise GeometryError(
            field, f"The box lies partly outside the image ({cols} x {rows} pixels)."
        )
    return (x0, y0, x1, y1)


def validate_box(value, field: str, rows: int, cols: int) -> tuple[float, float, float, float]:
    """One box alone (the live preview): four finite numbers, inside the image, not empty."""
    return _box(value, field, rows, cols)


def _points(value, field: str, rows: int, cols: int) -> tuple[tuple[float, float, int], ...]:
    if not isinstance(value, list) or not value:
        raise GeometryError(field, f"{field} must be a list of [x, y, label] clicks.")
    points = []
    for i, point in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(point, list | tuple) or len(point) != 3:
            raise GeometryError(where, f"{where} must be [x, y, label].")
        x, y = _number(point[0], f"{where}[0]"), _number(point[1], f"{where}[1]")
        if point[2] not in (0, 1) or isinstance(point[2], bool):
            raise GeometryError(where, f"{where}: label must be 1 (inside) or 0 (outside).")
        if not (0 <= x < cols and 0 <= y < rows):
            raise GeometryError(where, f"The click {i + 1} lies outside the image.")
        points.append((x, y, int(point[2])))
    return tuple(points)


def validate_geometry(raw, interaction: dict, shape_zyx: tuple[int, int, int]) -> list[SlicePrompt]:
    """Return the normalised prompts, or raise GeometryError saying what does not fit."""
    slices, rows, cols = shape_zyx
    if not isinstance(raw, dict) or not isinstance(raw.get("prompts"), list):
        raise GeometryError("geometry", 'The geometry must be {"prompts": [...]}.')
    tool, count = interaction["tool"], int(interaction["count"])
    prompts: list[SlicePrompt] = []
    for i, item in enumerate(raw["prompts"]):
        where = f"prompts[{i}]"
        if not isinstance(item, dict):
            raise GeometryError(where, f"{where} must be an object with a slice.")
        index = _slice_index(item.get("slice"), f"{where}.slice", slices)
        if tool == "box":
            if "points" in item:
                raise GeometryError(where, "This protocol asks for a box, not clicks.")
            box = _box(item.get("box"), f"{where}.box", rows, cols)
            prompts.append(SlicePrompt(index, box=box))
        else:
            if "box" in item:
                raise GeometryError(where, "This protocol asks for clicks, not a box.")
            points = _points(item.get("points"), f"{where}.points", rows, cols)
            prompts.append(SlicePrompt(index, points=points))
    given = len(prompts) if tool == "box" else sum(len(p.points or ()) for p in prompts)
    fewest = int(interaction.get("count_min", count))
    if not fewest <= given <= count:
        noun = {"box": ("box", "boxes"), "click": ("click", "clicks")}[tool]
        wanted = (f"exactly {count} {noun[count != 1]}" if fewest == count
                  else f"{fewest} to {count} {noun[1]}")
        raise GeometryError("prompts", f"This protocol asks for {wanted}; {given} given.")
    slices = {p.slice for p in prompts}
    per_part = tool == "box" and interaction.get("boxes_per_part")
    if not per_part and len(slices) != len(prompts):
        raise GeometryError("prompts", "Two prompts are on the same slice.")
    named = MULTI_SLICE_RULES.get(interaction.get("slice", ""), 1)
    if named > 1 and len(slices) != named:
        raise GeometryError(
            "prompts", f"This protocol asks for boxes on {named} different slices (the largest "
            f"cross-section and a quarter of the way in from each end); {len(slices)} given."
        )
    return prompts


def validate_extent(raw, interaction: dict, shape_zyx: tuple[int, int, int],
                    prompts: list[SlicePrompt]) -> tuple[int, int] | None:
    """The structure's first and last slice from ``geometry.extent`` ({"first": k, "last": m},
    inclusive), or None when the entry's template does not ask for them; raises
    GeometryError, naming the field, when it is missing, outside the series, reversed, or
    leaves a prompted key slice outside it."""
    extent = raw.get("extent") if isinstance(raw, dict) else None
    if not asks_extent({"interaction": interaction}):
        if extent is not None:
            raise GeometryError("extent", "This protocol does not ask for the first and last "
                                "slice; leave extent out.")
        return None
    if not isinstance(extent, dict):
        raise GeometryError(
            "extent", 'This protocol asks for the structure\'s first and last slice: '
            '{"extent": {"first": k, "last": m}} beside the prompts.')
    slices = shape_zyx[0]
    first = _slice_index(extent.get("first"), "extent.first", slices)
    last = _slice_index(extent.get("last"), "extent.last", slices)
    if first > last:
        raise GeometryError("extent.last", f"The last slice ({last}) comes before the first "
                            f"({first}).")
    outside = sorted({p.slice for p in prompts if not first <= p.slice <= last})
    if outside:
        raise GeometryError(
            "extent", f"The key slice {outside[0]} lies outside the marked first and last "
            f"slice ({first} to {last}); every prompt goes between them.")
    return first, last
