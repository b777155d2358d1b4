// Correcting a draft from one slice (issue 18): the template the prompt layer draws it with,
// what keeps a drawn correction from being sent, the request it becomes, and what the user is
// told once the job finished.
import { describe, expect, it } from "vitest";
import type { Job, MaskVersion } from "../src/viewer/api";
import {
  acceptsPoints, correctionBlocked, correctionBody, correctionProblems, correctionStatus,
  correctionTemplate, describeCorrection,
} from "../src/viewer/correcting";
import { isCorrection, versionLabel } from "../src/viewer/results";
import { templateProblems, withBox, withPoint, type SlicePrompt } from "../src/viewer/template";

const BOX: [number, number, number, number] = [10, 20, 60, 80];
const OTHER: [number, number, number, number] = [100, 20, 140, 70];

function job(overrides: Partial<Job> = {}): Job {
  return {
    id: "a1", series: 1, prompt_version: 3, structure_key: "stomach-ct", engine: "litemedsam",
    status: "succeeded", progress: { done: 10, total: 10, fraction: 1 }, error: "", result: 7,
    corrects: 7, base_version: 2, mask_version: 3, ...overrides,
  };
}

function version(number: number, extra: Partial<MaskVersion> = {}): MaskVersion {
  return {
    number, sha256: "ab".repeat(32), shape: [10, 256, 256], voxel_count: 50, volume_ml: 1,
    created_by: "Dr. Owner", created_at: "", note: "", ...extra,
  };
}

describe("the correction template", () => {
  it("is one box, or one to three boxes when the protocol asks for a box per part", () => {
    expect(correctionTemplate({ tool: "box", count: 1 })).toEqual({ tool: "box", count: 1 });
    expect(correctionTemplate(null)).toEqual({ tool: "box", count: 1 });
    expect(correctionTemplate({ tool: "click", count: 3 })).toEqual({ tool: "box", count: 1 });
    const perPart = correctionTemplate({ tool: "box", count: 3, boxes_per_part: true,
      slice: "largest_and_quarters" });
    expect(perPart).toEqual({ tool: "box", count: 3, count_min: 1, boxes_per_part: true });
    expect(acceptsPoints(perPart)).toBe(false);
    expect(acceptsPoints(correctionTemplate(null))).toBe(true);
  });

  it("keeps one box (a new one replaces it, wherever it was) or adds a part's box", () => {
    const single = correctionTemplate(null);
    const first = withBox([], single, 4, [10, 20], [60, 80])!;
    const moved = withBox(first, single, 6, [0, 0], [30, 30])!;
    expect(moved).toEqual([{ slice: 6, box: [0, 0, 30, 30] }]);
    const perPart = correctionTemplate({ tool: "box", count: 3, boxes_per_part: true });
    const two = withBox(first, perPart, 4, [100, 20], [140, 70])!;
    expect(two.map((p) => p.box)).toEqual([BOX, OTHER]);
    expect(templateProblems(perPart, two, null)).toEqual([]);
  });
});

describe("what keeps a correction from being sent", () => {
  it("asks for a box first", () => {
    expect(correctionProblems([])).toEqual([
      "Draw a box around the structure on the slice the draft got wrong."]);
    expect(correctionStatus([]).ok).toBe(false);
  });

  it("takes one box with inside and outside clicks on its slice", () => {
    let prompts: SlicePrompt[] = [{ slice: 8, box: BOX }];
    prompts = withPoint(prompts, 8, [30, 40], true);
    prompts = withPoint(prompts, 8, [12, 22], false);
    expect(correctionProblems(prompts)).toEqual([]);
    expect(correctionStatus(prompts)).toEqual({
      text: "Ready: a box and 2 clicks on slice 9. Press \"Re-segment from this slice\".", ok: true });
  });

  it("refuses a correction spread over several slices", () => {
    const prompts: SlicePrompt[] = [{ slice: 8, box: BOX }, { slice: 3, box: OTHER }];
    expect(correctionProblems(prompts)).toEqual([
      "Put the correction on one slice (it is on 2: 4, 9)."]);
    expect(correctionBody(prompts, 2)).toBeNull();
  });

  it("refuses clicks with several boxes, and more than three boxes", () => {
    const withClicks: SlicePrompt[] = [
      { slice: 8, box: BOX, points: [[30, 40, 1]] }, { slice: 8, box: OTHER }];
    expect(correctionProblems(withClicks)).toEqual([
      "Inside/outside clicks go with a single box; remove the clicks or the other boxes."]);
    const four: SlicePrompt[] = [BOX, OTHER, BOX, OTHER].map((box) => ({ slice: 2, box }));
    expect(correctionProblems(four)).toEqual(["Draw at most 3 boxes (4 drawn)."]);
  });

  it("refuses clicks on a slice without a box", () => {
    const prompts: SlicePrompt[] = [{ slice: 8, box: BOX }, { slice: 8, points: [[1, 1, 1]] }];
    expect(correctionProblems(prompts)).toContain("Put every click inside a box's slice.");
  });
});

describe("the request", () => {
  it("is the latest version, the slice, the box and its clicks", () => {
    const prompts: SlicePrompt[] = [{ slice: 8, box: BOX, points: [[30, 40, 1], [12, 22, 0]] }];
    expect(correctionBody(prompts, 2)).toEqual({
      base_version: 2, slice: 8, box: BOX, points: [[30, 40, 1], [12, 22, 0]] });
    expect(correctionBody([{ slice: 0, box: BOX }], 1)).toEqual({
      base_version: 1, slice: 0, box: BOX });
  });

  it("sends a box per part as boxes, without points", () => {
    const prompts: SlicePrompt[] = [{ slice: 5, box: BOX }, { slice: 5, box: OTHER }];
    expect(correctionBody(prompts, 3)).toEqual({ base_version: 3, slice: 5, boxes: [BOX, OTHER] });
  });
});

describe("starting and finishing", () => {
  it("refuses to start over an unsaved brush edit, on a read-only version or a running job", () => {
    expect(correctionBlocked(false, true, false)).toBeNull();
    expect(correctionBlocked(true, true, false)).toMatch(/^Save or undo your brush edit first/);
    expect(correctionBlocked(false, false, false)).toMatch(/latest version of your own/);
    expect(correctionBlocked(false, true, true)).toMatch(/running job/);
  });

  it("says which slices were re-segmented into which version", () => {
    const stored = version(3, { job: "a1", provenance: { slices: [7, 9] },
      note: "AI correction from slice 9: slices 8 to 10 re-segmented" });
    expect(describeCorrection(job(), stored)).toBe("Slices 8 to 10 re-segmented; version 3.");
    expect(describeCorrection(job(), version(3, { provenance: { slices: [4, 4] } })))
      .toBe("Slice 5 re-segmented; version 3.");
    expect(describeCorrection(job(), undefined)).toBe("Stored as version 3.");
    expect(describeCorrection(job({ mask_version: null }), undefined))
      .toBe("The correction left the draft unchanged: no new version.");
    expect(describeCorrection(job({ status: "failed", mask_version: null,
      error: "The draft changed while the correction ran" }), undefined))
      .toBe("The correction failed: The draft changed while the correction ran");
  });

  it("marks a correction's version in the version list", () => {
    expect(versionLabel(version(1))).toBe(" (AI original)");
    expect(versionLabel(version(2))).toBe("");
    expect(isCorrection(version(3, { job: "a1" }))).toBe(true);
    expect(versionLabel(version(3, { job: "a1" }))).toBe(" (AI correction)");
  });
});
