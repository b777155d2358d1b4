// Correcting a draft from one slice (issue 18): the template the prompt layer draws it with,
// what keeps a drawn correction from being sent, the request it becomes, and what the user is
// told once the job finished.
import { afterEach, describe, expect, it, vi } from "vitest";
import { urls, type Interaction, type Job, type MaskVersion, type Result } from "../src/viewer/api";
import {
  acceptsPoints, CorrectionPanel, correctionBlocked, correctionBody, correctionProblems,
  correctionStatus, correctionTemplate, describeCorrection, type CorrectionTarget,
} from "../src/viewer/correcting";
import type { JobProgress } from "../src/viewer/progress";
import type { PromptLayer } from "../src/viewer/prompting";
import type { Tools } from "../src/viewer/tools";
import { fakeElement, fakeServer } from "./fakes";
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

describe("the correction panel", () => {
  function setUp(unsaved = false) {
    const ids = ["correct-start", "correct-submit", "correct-cancel", "correct-status",
      "prompt-submit"];
    const elements = Object.fromEntries(ids.map((id) => [id, fakeElement<HTMLElement>()]));
    vi.stubGlobal("document", { getElementById: (id: string) => elements[id] ?? null });
    const server = fakeServer();
    const drawn: { template: Interaction | null; points: boolean }[] = [];
    const layer = {
      prompts: [] as SlicePrompt[],
      setTemplate(template: Interaction | null, _colour: string | null, points = false) {
        drawn.push({ template, points });
        this.prompts = [];
      },
    };
    const followed: Job[] = [];
    const progress = { running: false, follow: (j: Job) => followed.push(j) };
    const tools: string[] = [];
    let restored = 0;
    const target: CorrectionTarget = {
      result: {
        id: 7, job: "j", series: 1, structure_key: "stomach-ct", prompt_version: 3,
        prompt: { name: "Stomach", colour: "#aa3300", opacity: 0.5, number: 2 },
        state: "edited", provenance: {}, agreement: null, flags: [], created_at: "",
        mask_versions: [version(1), version(2)], final_version: null, signature: null,
      },
      shownVersion: 2, editable: true, edit: { hasChanges: unsaved },
    };
    const panel = new CorrectionPanel(target, layer as unknown as PromptLayer,
      { use: (t: string) => tools.push(t) } as unknown as Tools,
      progress as unknown as JobProgress, () => restored++);
    return { elements, server, layer, followed, tools, panel, drawn, restored: () => restored };
  }

  afterEach(() => vi.unstubAllGlobals());

  it("refuses to start over an unsaved brush edit, and asks nothing of the server", async () => {
    const { elements, server, panel } = setUp(true);
    await panel.start();
    expect(panel.active).toBe(false);
    expect(elements["correct-status"].textContent).toMatch(/^Save or undo your brush edit first/);
    expect(server.requests).toHaveLength(0);
  });

  it("draws with the protocol's boxes per part, sends the request and follows the job", async () => {
    const { elements, server, layer, followed, tools, panel, drawn, restored } = setUp();
    const starting = panel.start();
    await vi.waitUntil(() => server.requests.length > 0);
    await server.take(urls.version(3)).answer(200, { id: 3, key: "stomach-ct", number: 2,
      state: "approved", content: { interaction: { tool: "box", count: 3, boxes_per_part: true } } });
    await starting;
    expect(panel.active).toBe(true);
    expect(drawn.at(-1)).toEqual({ points: false,
      template: { tool: "box", count: 3, count_min: 1, boxes_per_part: true } });
    expect(tools).toEqual(["prompt"]);
    expect(elements["prompt-submit"].disabled).toBe(true);
    expect(elements["correct-submit"]).toMatchObject({ hidden: false, disabled: true });

    layer.prompts = [{ slice: 5, box: BOX }, { slice: 5, box: OTHER }];
    panel.update();
    expect(elements["correct-submit"].disabled).toBe(false);
    const sending = panel.submit();
    await vi.waitUntil(() => server.requests.length > 0);
    const request = server.take(urls.corrections(7));
    expect(request).toMatchObject({ method: "POST",
      body: { base_version: 2, slice: 5, boxes: [BOX, OTHER] } });
    await request.answer(400, { geometry: ["box 2 lies outside the slice"] });
    await sending;
    expect(elements["correct-status"]).toMatchObject({ className: "error", textContent:
      "Re-segmenting from this slice failed: geometry: box 2 lies outside the slice Change " +
      "the box if the server says what is wrong, then press \"Re-segment from this slice\" again." });
    expect(panel.active).toBe(true);

    const again = panel.submit();
    await vi.waitUntil(() => server.requests.length > 0);
    await server.take(urls.corrections(7)).answer(202, job({ status: "queued", mask_version: null }));
    await again;
    expect(followed.map((j) => j.id)).toEqual(["a1"]);
    expect(panel.active).toBe(false);
    expect(restored()).toBe(1);
    expect(elements["correct-status"].textContent).toBe("Re-segmenting from slice 6…");

    const finished = job();
    expect(panel.owns(finished)).toBe(true);
    panel.finished(finished, { mask_versions: [
      version(3, { job: "a1", provenance: { slices: [4, 6] } })] } as unknown as Result);
    expect(elements["correct-status"]).toMatchObject({ className: "ok",
      textContent: "Slices 5 to 7 re-segmented; version 3." });
  });
});
