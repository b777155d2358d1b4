// A protocol asking for a box plus the structure's first and last slice (issue 18): marking the
// ends on the slice shown, what keeps them from being sent, and the prompt panel offering,
// enforcing and submitting them.
import { afterEach, describe, expect, it, vi } from "vitest";
import { urls, type Interaction, type Job, type PromptVersion } from "../src/viewer/api";
import {
  asksExtent, describeExtent, extentProblems, jobGeometry, withEnd,
} from "../src/viewer/extent";
import type { JobProgress } from "../src/viewer/progress";
import type { PromptLayer } from "../src/viewer/prompting";
import { PromptPanel } from "../src/viewer/promptpanel";
import { describeRule, templateProblems, type SlicePrompt } from "../src/viewer/template";
import type { Tools } from "../src/viewer/tools";
import type { Windowing } from "../src/viewer/windowing";
import { fakeElement, fakeServer } from "./fakes";

// prompt_library/structures/adrenal-gland-left-ct.yaml: three key slices, a box per part,
// and the first and last slice.
const ADRENAL: Interaction = {
  tool: "box", count: 9, count_min: 3, boxes_per_part: true, plane: "axial",
  slice: "largest_and_quarters", slice_tolerance_mm: 5, extent: "required",
  extent_tolerance_mm: 3, placement: "The first and last slice, and a box around each part",
  tolerance: { value: 2, unit: "mm" },
};
const ONE_BOX: Interaction = { tool: "box", count: 1, slice: "largest_cross_section" };
const box = (slice: number): SlicePrompt => ({ slice, box: [10, 10, 30, 40] });
const THREE = [box(14), box(16), box(20)];

describe("the marked first and last slice", () => {
  it("is asked for only by a template with extent: required, and described with it", () => {
    expect(asksExtent(ADRENAL)).toBe(true);
    expect(asksExtent(ONE_BOX)).toBe(false);
    expect(asksExtent(null)).toBe(false);
    expect(describeRule(ADRENAL)).toContain(
      "from its lower end (±5 mm), and the structure's first and last slice (±3 mm). " +
      "Placement tolerance 2 mm.");
    expect(describeRule(ONE_BOX)).not.toContain("first and last");
  });

  it("takes the slice shown as either end and says which are set, numbered as shown", () => {
    let extent = withEnd({}, "first", 12);
    expect(describeExtent(extent)).toBe("First slice: 13 · last slice: not set");
    extent = withEnd(extent, "last", 22);
    expect(extent).toEqual({ first: 12, last: 22 });
    expect(describeExtent(withEnd(extent, "first", 13))).toBe("First slice: 14 · last slice: 23");
  });

  it("refuses until both ends are set and every key slice lies between them", () => {
    expect(extentProblems(ADRENAL, {}, THREE, 30)).toEqual([
      "Mark the structure's first and last slice: scroll to each and press " +
      "\"First slice here\" and \"Last slice here\"."]);
    expect(extentProblems(ADRENAL, { first: 12 }, THREE, 30)).toEqual([
      "Mark the structure's last slice: scroll to it and press \"Last slice here\"."]);
    expect(extentProblems(ADRENAL, { last: 22 }, THREE, 30)).toEqual([
      "Mark the structure's first slice: scroll to it and press \"First slice here\"."]);
    expect(extentProblems(ADRENAL, { first: 22, last: 12 }, THREE, 30)).toEqual([
      "The last slice (13) comes before the first (23)."]);
    expect(extentProblems(ADRENAL, { first: 15, last: 22 }, THREE, 30)).toEqual([
      "The box on slice 15 lies outside the marked first and last slice (16 to 23); every box " +
      "goes between them."]);
    expect(extentProblems(ADRENAL, { first: 12, last: 19 }, THREE, 30)[0]).toMatch(
      /^The box on slice 21 lies outside/);
    expect(extentProblems(ADRENAL, { first: 12, last: 30 }, THREE, 30)).toEqual([
      "The marked slices must lie within the series (1 to 30)."]);
    expect(extentProblems(ADRENAL, { first: 14, last: 20 }, THREE, 30)).toEqual([]);
    expect(extentProblems(ONE_BOX, {}, [box(3)], 30)).toEqual([]);
    // The boxes are still the template's to check.
    expect(templateProblems(ADRENAL, THREE, "axial")).toEqual([]);
  });

  it("goes with the job's prompts only where the template asks for it", () => {
    expect(jobGeometry(ADRENAL, THREE, { first: 12, last: 22 })).toEqual({
      prompts: THREE, extent: { first: 12, last: 22 } });
    expect(jobGeometry(ONE_BOX, [box(3)], { first: 1, last: 5 })).toEqual({ prompts: [box(3)] });
    expect(jobGeometry(ADRENAL, THREE, { first: 12 })).toEqual({ prompts: THREE });
  });
});

describe("the prompt panel with an extent protocol", () => {
  function setUp(interaction: Interaction) {
    const ids = ["prompt-chosen", "prompt-status", "prompt-submit", "prompt-clear",
      "prompt-extent", "prompt-extent-status", "prompt-extent-first", "prompt-extent-last"];
    const elements = Object.fromEntries(ids.map((id) => [id, fakeElement<HTMLElement>()]));
    const parts: Record<string, ReturnType<typeof fakeElement>> = {};
    Object.assign(elements["prompt-chosen"], {
      querySelector: (selector: string) => (parts[selector] ??= Object.assign(
        fakeElement<HTMLElement>(), { style: {} })),
    });
    vi.stubGlobal("document", { getElementById: (id: string) => elements[id] ?? null });
    const server = fakeServer();
    const layer = {
      prompts: [] as SlicePrompt[], currentSlice: 0, sliceCount: 30,
      problems(): string[] {
        return templateProblems(interaction, this.prompts, "axial");
      },
      setTemplate() {},
      clear() {
        this.prompts = [];
      },
    };
    const followed: Job[] = [];
    const progress = { running: false, follow: (j: Job) => followed.push(j) };
    const panel = new PromptPanel(4, layer as unknown as PromptLayer,
      { setProtocol() {} } as unknown as Windowing, { use() {} } as unknown as Tools,
      progress as unknown as JobProgress);
    const version: PromptVersion = { id: 9, key: "adrenal-gland-left-ct", number: 3,
      state: "approved", content: { key: "adrenal-gland-left-ct", name: "Left adrenal gland",
        modality: "CT", instructions: "Mark the ends, then draw.", interaction } };
    panel.choose(version);
    return { elements, server, layer, panel, followed };
  }

  afterEach(() => vi.unstubAllGlobals());

  it("offers First/Last slice here, shows them, and submits only with both set around the boxes",
    async () => {
      const { elements, server, layer, panel, followed } = setUp(ADRENAL);
      expect(elements["prompt-extent"].hidden).toBe(false);
      expect(elements["prompt-extent-status"].textContent).toBe(
        "First slice: not set · last slice: not set");
      layer.prompts = THREE;
      panel.update();
      expect(elements["prompt-submit"].disabled).toBe(true);
      expect(elements["prompt-status"].textContent).toMatch(/^Mark the structure's first and last/);

      layer.currentSlice = 15;  // scrolled to a slice past the lowest box
      elements["prompt-extent-first"].fire("click");
      layer.currentSlice = 23;
      elements["prompt-extent-last"].fire("click");
      expect(elements["prompt-extent-status"].textContent).toBe(
        "First slice: 16 · last slice: 24");
      expect(elements["prompt-submit"].disabled).toBe(true);
      expect(elements["prompt-status"].textContent).toMatch(/^The box on slice 15 lies outside/);
      await panel.submit();
      expect(server.requests).toHaveLength(0);  // refused without asking the server

      layer.currentSlice = 12;
      elements["prompt-extent-first"].fire("click");
      expect(elements["prompt-submit"].disabled).toBe(false);
      expect(elements["prompt-status"].className).toBe("ok");
      const sending = panel.submit();
      await vi.waitUntil(() => server.requests.length > 0);
      const request = server.take(urls.jobs);
      expect(request.body).toEqual({ series: 4, prompt_version: 9,
        geometry: { prompts: THREE, extent: { first: 12, last: 23 } } });
      await request.answer(201, { id: "j1", status: "queued" });
      await sending;
      expect(followed.map((j) => j.id)).toEqual(["j1"]);

      elements["prompt-clear"].fire("click");  // a new prompt starts without the old ends
      expect(elements["prompt-extent-status"].textContent).toBe(
        "First slice: not set · last slice: not set");
    });

  it("hides the end-slice buttons and sends no extent for a protocol that does not ask", async () => {
    const { elements, server, layer, panel } = setUp(ONE_BOX);
    expect(elements["prompt-extent"].hidden).toBe(true);
    layer.prompts = [box(3)];
    panel.update();
    expect(elements["prompt-submit"].disabled).toBe(false);
    const sending = panel.submit();
    await vi.waitUntil(() => server.requests.length > 0);
    const request = server.take(urls.jobs);
    expect(request.body).toEqual({ series: 4, prompt_version: 9,
      geometry: { prompts: [box(3)] } });
    await request.answer(201, { id: "j2", status: "queued" });
    await sending;
  });
});
