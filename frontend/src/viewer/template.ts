// The approved entry's interaction template and the prompt drawn for it: what the protocol
// asks for in words, what keeps a drawn prompt from fitting it, and how a new box or click
// changes the prompt. Pure: prompting.ts draws, promptpanel.ts shows and submits.
import type { Interaction } from "./api";

/** A prompt on one stack slice, in image pixels (column, row); a click's third value is its
 * label (1 inside the structure, 0 outside). */
export interface SlicePrompt {
  slice: number;
  box?: [number, number, number, number];
  points?: [number, number, number][];
}

/** A drag shorter than this on either side is a click slip, not a box. */
export const MIN_BOX_SIDE_PX = 2;

const SLICE_RULES: Record<string, string> = {
  largest_cross_section: "the slice where the structure looks largest",
  longest_diameter: "the slice with the structure's longest diameter",
  central: "the central slice of the structure",
  largest_and_quarters: "three slices: where the structure looks largest, and a quarter of its " +
    "length in from its upper and from its lower end",
};

/** How many different slices a slice rule names (prompt_library/schema.json). */
const RULE_SLICES: Record<string, number> = { largest_and_quarters: 3 };

function fewest(interaction: Interaction): number {
  return interaction.count_min ?? interaction.count;
}

export function describeRule(interaction: Interaction): string {
  const low = fewest(interaction);
  const many = low === interaction.count ? `${interaction.count}` : `${low} to ${interaction.count}`;
  const plural = interaction.count !== 1 || low !== interaction.count;
  const what = (interaction.tool === "box" ? `${many} box${plural ? "es" : ""}`
    : `${many} click${plural ? "s" : ""}`)
    + (interaction.boxes_per_part ? ", one around each separate part of the structure," : "");
  const plane = interaction.plane ? ` on the ${interaction.plane} plane` : "";
  const slice = interaction.slice ? `, on ${SLICE_RULES[interaction.slice] ?? interaction.slice}` : "";
  const within = interaction.slice_tolerance_mm ? ` (±${interaction.slice_tolerance_mm} mm)` : "";
  const tolerance = interaction.tolerance
    ? ` Placement tolerance ${interaction.tolerance.value} ${interaction.tolerance.unit}.` : "";
  const ends = interaction.extent === "required"
    ? `, and the structure's first and last slice` +
      (interaction.extent_tolerance_mm ? ` (±${interaction.extent_tolerance_mm} mm)` : "") : "";
  return `Protocol: ${what}${plane}${slice}${within}${ends}.${tolerance}`;
}

/** What keeps ``prompts`` from fitting ``template`` on a series acquired in ``seriesPlane``
 * (null: oblique or unknown, not checked); empty when the prompt may be submitted. The
 * slice and placement tolerances are the server's to check (it flags the result). */
export function templateProblems(template: Interaction | null, prompts: SlicePrompt[],
                                 seriesPlane: string | null): string[] {
  if (!template) return ["Choose a structure first."];
  const problems: string[] = [];
  if (template.plane && seriesPlane && template.plane !== seriesPlane) {
    problems.push(`This protocol asks for the ${template.plane} plane; this series is ${seriesPlane}.`);
  }
  const low = fewest(template);
  const range = low === template.count ? `exactly ${template.count}` : `${low} to ${template.count}`;
  if (template.tool === "box") {
    const count = prompts.filter((p) => p.box).length;
    if (count < low || count > template.count) {
      const noun = template.count === 1 && low === template.count ? "box" : "boxes";
      problems.push(`Draw ${range} ${noun} (${count} drawn).`);
    }
  } else {
    const count = prompts.reduce((n, p) => n + (p.points?.length ?? 0), 0);
    if (count < low || count > template.count) {
      problems.push(`Place ${range} click(s) (${count} placed).`);
    }
  }
  const named = RULE_SLICES[template.slice ?? ""] ?? 0;
  const slices = new Set(prompts.map((p) => p.slice)).size;
  if (named && slices !== named) {
    problems.push(`Put the boxes on ${named} different slices (${slices} so far): ` +
      `${SLICE_RULES[template.slice!]}.`);
  }
  return problems;
}

/** The prompt after a box dragged from ``start`` to ``end`` on ``slice``, or null when the
 * drag is too small to be a box. One box per slice, so a new one replaces the slice's old
 * one (with a one-box template, wherever it was); a template asking for a box around each
 * part adds it beside the slice's others. Coordinates are kept to 0.1 pixel. */
export function withBox(prompts: SlicePrompt[], template: Interaction, slice: number,
                        start: [number, number], end: [number, number]): SlicePrompt[] | null {
  const box: [number, number, number, number] = [
    Math.min(start[0], end[0]), Math.min(start[1], end[1]),
    Math.max(start[0], end[0]), Math.max(start[1], end[1]),
  ];
  if (box[2] - box[0] < MIN_BOX_SIDE_PX || box[3] - box[1] < MIN_BOX_SIDE_PX) return null;
  const kept = template.boxes_per_part ? prompts
    : template.count > 1 ? prompts.filter((p) => p.slice !== slice) : [];
  return [...kept, { slice, box: box.map((v) => Math.round(v * 10) / 10) as typeof box }];
}

/** The prompt after a click at ``point`` on ``slice``: inside the structure, or outside
 * (Shift-click). */
export function withPoint(prompts: SlicePrompt[], slice: number, point: [number, number],
                          inside: boolean): SlicePrompt[] {
  const click: [number, number, number] = [point[0], point[1], inside ? 1 : 0];
  const existing = prompts.find((p) => p.slice === slice);
  if (!existing) return [...prompts, { slice, points: [click] }];
  return prompts.map((p) => (p === existing ? { ...p, points: [...(p.points ?? []), click] } : p));
}

/** The line under the entry: what is still wrong, or what will be submitted. */
export function promptStatus(template: Interaction, prompts: SlicePrompt[],
                             problems: string[]): { text: string; ok: boolean } {
  if (problems.length) return { text: problems.join(" "), ok: false };
  const tool = template.tool === "box" ? "box" : "click";
  const slices = [...new Set(prompts.map((p) => p.slice + 1))];
  if (slices.length < prompts.length) {
    return { text: `Ready: ${prompts.length} boxes on slices ${slices.join(", ")}.`, ok: true };
  }
  return { text: `Ready: ${tool} on slice ${slices.join(", ")}.`, ok: true };
}
