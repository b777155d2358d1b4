// The structure's first and last slice, for a protocol whose template asks for them besides
// the boxes (``extent: "required"``, the "3D box" of a box plus the two end slices): marking
// them on the slice shown, what keeps them from being sent, and the job's geometry with them.
// Pure: promptpanel.ts shows the buttons and submits. Slices are stack indices (0-based);
// the user reads them 1-based, as the viewer's corners number them.
import type { Interaction } from "./api";
import type { SlicePrompt } from "./template";

/** The marked ends so far; either may still be missing. */
export interface Extent {
  first?: number;
  last?: number;
}

export function asksExtent(template: Interaction | null): boolean {
  return template?.extent === "required";
}

/** The extent after "First slice here" or "Last slice here" on ``slice``. */
export function withEnd(extent: Extent, end: "first" | "last", slice: number): Extent {
  return { ...extent, [end]: slice };
}

/** What the panel shows: which ends are marked, 1-based. */
export function describeExtent(extent: Extent): string {
  const shown = (slice: number | undefined) => (slice === undefined ? "not set" : `${slice + 1}`);
  return `First slice: ${shown(extent.first)} · last slice: ${shown(extent.last)}`;
}

/** What keeps the marked ends from being sent with ``prompts`` (empty when they may be, or
 * when the template does not ask for them). ``slices``: how many the series has. */
export function extentProblems(template: Interaction | null, extent: Extent,
                               prompts: SlicePrompt[], slices: number): string[] {
  if (!asksExtent(template)) return [];
  const { first, last } = extent;
  if (first === undefined && last === undefined) {
    return ["Mark the structure's first and last slice: scroll to each and press " +
      "\"First slice here\" and \"Last slice here\"."];
  }
  if (first === undefined || last === undefined) {
    const end = first === undefined ? "first" : "last";
    const button = first === undefined ? "First slice here" : "Last slice here";
    return [`Mark the structure's ${end} slice: scroll to it and press "${button}".`];
  }
  const problems: string[] = [];
  if (first < 0 || last >= slices) {
    problems.push(`The marked slices must lie within the series (1 to ${slices}).`);
  }
  if (first > last) {
    problems.push(`The last slice (${last + 1}) comes before the first (${first + 1}).`);
    return problems;
  }
  const outside = [...new Set(prompts.map((p) => p.slice))]
    .filter((slice) => slice < first || slice > last).sort((a, b) => a - b);
  if (outside.length) {
    problems.push(`The box on slice ${outside[0] + 1} lies outside the marked first and last ` +
      `slice (${first + 1} to ${last + 1}); every box goes between them.`);
  }
  return problems;
}

/** The job's geometry: the prompts, and the marked ends where the template asks for them. */
export function jobGeometry(template: Interaction | null, prompts: SlicePrompt[],
                            extent: Extent): { prompts: SlicePrompt[]; extent?: { first: number; last: number } } {
  if (!asksExtent(template) || extent.first === undefined || extent.last === undefined) {
    return { prompts };
  }
  return { prompts, extent: { first: extent.first, last: extent.last } };
}
