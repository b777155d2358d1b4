// The approved prompt template a user must follow: what it asks for, what keeps a drawn
// prompt from being submitted, and what a new box or click does to the prompt.
import { describe, expect, it } from "vitest";
import type { Interaction } from "../src/viewer/api";
import { describeRule, promptStatus, templateProblems, withBox, withPoint,
  type SlicePrompt } from "../src/viewer/template";

// prompt_library/structures/stomach-ct.yaml
const STOMACH: Interaction = {
  tool: "box", count: 1, plane: "axial", slice: "largest_cross_section",
  slice_tolerance_mm: 10,
  placement: "One box tightly around the stomach on the axial slice where it has its largest cross-section",
  tolerance: { value: 5, unit: "mm" },
};
const TWO_BOXES: Interaction = { tool: "box", count: 2 };
const THREE_CLICKS: Interaction = { tool: "click", count: 3, plane: "axial" };

describe("the protocol in words", () => {
  it("states the tool, count, plane, slice rule and tolerances", () => {
    expect(describeRule(STOMACH)).toBe("Protocol: 1 box on the axial plane, on the slice where " +
      "the structure looks largest (±10 mm). Placement tolerance 5 mm.");
    expect(describeRule(THREE_CLICKS)).toBe("Protocol: 3 clicks on the axial plane.");
    expect(describeRule(TWO_BOXES)).toBe("Protocol: 2 boxes.");
  });
});

describe("template enforcement", () => {
  const box = (slice: number): SlicePrompt => ({ slice, box: [10, 10, 40, 40] });

  it("asks for a structure before anything else", () => {
    expect(templateProblems(null, [box(3)], "axial")).toEqual(["Choose a structure first."]);
  });

  it("refuses a submission until exactly the template's number of boxes is drawn", () => {
    expect(templateProblems(STOMACH, [], "axial")).toEqual(["Draw exactly 1 box (0 drawn)."]);
    expect(templateProblems(STOMACH, [box(3)], "axial")).toEqual([]);
    expect(templateProblems(TWO_BOXES, [box(3)], null)).toEqual(["Draw exactly 2 boxes (1 drawn)."]);
    expect(templateProblems(TWO_BOXES, [box(3), box(5)], null)).toEqual([]);
  });

  it("counts clicks over all slices", () => {
    const clicks: SlicePrompt[] = [
      { slice: 1, points: [[5, 5, 1], [6, 6, 0]] }, { slice: 2, points: [[7, 7, 1]] },
    ];
    expect(templateProblems(THREE_CLICKS, clicks.slice(0, 1), "axial"))
      .toEqual(["Place exactly 3 click(s) (2 placed)."]);
    expect(templateProblems(THREE_CLICKS, clicks, "axial")).toEqual([]);
  });

  it("refuses a series in another plane than the protocol's, and does not guess for an oblique one",
    () => {
      expect(templateProblems(STOMACH, [box(3)], "coronal"))
        .toEqual(["This protocol asks for the axial plane; this series is coronal."]);
      expect(templateProblems(STOMACH, [box(3)], null)).toEqual([]);
    });

  it("says what is wrong, or what will be submitted", () => {
    expect(promptStatus(STOMACH, [], ["Draw exactly 1 box (0 drawn)."]))
      .toEqual({ text: "Draw exactly 1 box (0 drawn).", ok: false });
    expect(promptStatus(TWO_BOXES, [box(2), box(6)], []))
      .toEqual({ text: "Ready: box on slice 3, 7.", ok: true });
  });
});

describe("drawing", () => {
  it("makes a box from a drag in any direction, to 0.1 pixel", () => {
    expect(withBox([], STOMACH, 4, [40.04, 30.06], [10.01, 5.55]))
      .toEqual([{ slice: 4, box: [10, 5.6, 40, 30.1] }]);
  });

  it("ignores a drag too small to be a box", () => {
    expect(withBox([], STOMACH, 4, [10, 10], [11.5, 30])).toBeNull();
    expect(withBox([], STOMACH, 4, [10, 10], [30, 11])).toBeNull();
  });

  it("replaces the one box of a one-box protocol, even on another slice", () => {
    const first = withBox([], STOMACH, 4, [10, 10], [30, 30])!;
    expect(withBox(first, STOMACH, 7, [50, 50], [80, 90]))
      .toEqual([{ slice: 7, box: [50, 50, 80, 90] }]);
  });

  it("keeps one box per slice with a several-box protocol", () => {
    let prompts = withBox([], TWO_BOXES, 4, [10, 10], [30, 30])!;
    prompts = withBox(prompts, TWO_BOXES, 7, [50, 50], [80, 90])!;
    prompts = withBox(prompts, TWO_BOXES, 4, [12, 12], [32, 32])!;
    expect(prompts).toEqual([
      { slice: 7, box: [50, 50, 80, 90] }, { slice: 4, box: [12, 12, 32, 32] },
    ]);
  });

  it("labels a click inside, a Shift-click outside, and gathers clicks by slice", () => {
    const before: SlicePrompt[] = [{ slice: 2, points: [[5, 5, 1]] }];
    const after = withPoint(withPoint(before, 2, [6, 7], false), 3, [8, 9], true);
    expect(after).toEqual([
      { slice: 2, points: [[5, 5, 1], [6, 7, 0]] }, { slice: 3, points: [[8, 9, 1]] },
    ]);
    expect(before).toEqual([{ slice: 2, points: [[5, 5, 1]] }]);
  });
});

// prompt_library/structures/pancreas-ct.yaml: three key slices, a box around each part.
const PANCREAS: Interaction = {
  tool: "box", count: 9, count_min: 3, boxes_per_part: true, plane: "axial",
  slice: "largest_and_quarters", slice_tolerance_mm: 10,
  placement: "A box around each separate part of the pancreas on three axial slices",
  tolerance: { value: 3, unit: "mm" },
};

describe("a protocol with three key slices and a box per part", () => {
  const box = (slice: number, x = 10): SlicePrompt => ({ slice, box: [x, 10, x + 20, 40] });

  it("says how many boxes, that each part gets one, and which slices", () => {
    expect(describeRule(PANCREAS)).toBe("Protocol: 3 to 9 boxes, one around each separate part " +
      "of the structure, on the axial plane, on three slices: where the structure looks largest, " +
      "and a quarter of its length in from its upper and from its lower end (±10 mm). " +
      "Placement tolerance 3 mm.");
  });

  it("keeps every box drawn on a slice, beside the others", () => {
    let prompts = withBox([], PANCREAS, 4, [10, 10], [30, 30])!;
    prompts = withBox(prompts, PANCREAS, 4, [50, 10], [70, 30])!;
    expect(prompts.map((p) => p.slice)).toEqual([4, 4]);
  });

  it("refuses too few boxes, too many, and boxes on fewer or more than three slices", () => {
    expect(templateProblems(PANCREAS, [box(2), box(8)], "axial")).toEqual([
      "Draw 3 to 9 boxes (2 drawn).",
      "Put the boxes on 3 different slices (2 so far): three slices: where the structure looks " +
      "largest, and a quarter of its length in from its upper and from its lower end.",
    ]);
    expect(templateProblems(PANCREAS, [box(2), box(8), box(8, 50)], "axial")).toHaveLength(1);
    expect(templateProblems(PANCREAS, [box(2), box(8), box(12), box(14)], "axial")).toHaveLength(1);
    const ten = Array.from({ length: 10 }, (_, i) => box(2 + (i % 3), i * 5));
    expect(templateProblems(PANCREAS, ten, "axial")[0]).toBe("Draw 3 to 9 boxes (10 drawn).");
    const ok = [box(2), box(8), box(8, 50), box(14)];
    expect(templateProblems(PANCREAS, ok, "axial")).toEqual([]);
    expect(promptStatus(PANCREAS, ok, [])).toEqual({ text: "Ready: 4 boxes on slices 3, 9, 15.", ok: true });
  });
});
