// Correcting an AI draft from one slice (issue 18): the annotator draws a box (with inside /
// outside clicks) or a box around each part on the slice the draft got wrong, and a job
// re-segments only the affected run of slices into a new mask version of the same result.
//
// The pure part (the template the prompt layer draws with, what keeps a drawn correction from
// being sent, the request body, what the new version changed) is exported for the unit tests;
// CorrectionPanel is the DOM part under the edit tools.
import {
  ApiError, describeFailure, getJson, postJson, urls, type Interaction, type Job, type MaskVersion,
  type PromptVersion, type Result,
} from "./api";
import type { JobProgress } from "./progress";
import type { PromptLayer } from "./prompting";
import type { SlicePrompt } from "./template";
import type { Tools } from "./tools";

type Box = [number, number, number, number];

/** The body of POST results/<id>/corrections. */
export interface CorrectionRequest {
  base_version: number;
  slice: number;
  box?: Box;
  boxes?: Box[];
  points?: [number, number, number][];
}

/** What the prompt layer draws a correction with: one box (clicks may be added to it), or,
 * when the draft's protocol asks for a box around each part, one to three boxes. */
export function correctionTemplate(interaction: Interaction | null | undefined): Interaction {
  if (interaction?.boxes_per_part) {
    return { tool: "box", count: 3, count_min: 1, boxes_per_part: true };
  }
  return { tool: "box", count: 1 };
}

/** Clicks go with a box only when the correction is a single box. */
export function acceptsPoints(template: Interaction): boolean {
  return template.tool === "box" && template.count === 1 && !template.boxes_per_part;
}

/** What keeps ``prompts`` from being sent as a correction; empty when they may be. */
export function correctionProblems(prompts: SlicePrompt[]): string[] {
  const boxes = prompts.filter((p) => p.box);
  if (!boxes.length) {
    return ["Draw a box around the structure on the slice the draft got wrong."];
  }
  const problems: string[] = [];
  const slices = new Set(prompts.map((p) => p.slice));
  if (slices.size !== 1) {
    problems.push(`Put the correction on one slice (it is on ${slices.size}: ` +
      `${[...slices].sort((a, b) => a - b).map((s) => s + 1).join(", ")}).`);
  }
  if (boxes.length > 3) problems.push(`Draw at most 3 boxes (${boxes.length} drawn).`);
  const points = prompts.reduce((n, p) => n + (p.points?.length ?? 0), 0);
  if (prompts.length > boxes.length) problems.push("Put every click inside a box's slice.");
  if (points && boxes.length > 1) {
    problems.push("Inside/outside clicks go with a single box; remove the clicks or the " +
      "other boxes.");
  }
  if (points > 32) problems.push(`Place at most 32 clicks (${points} placed).`);
  return problems;
}

/** The request for ``prompts`` on version ``baseVersion``, or null when they cannot be sent. */
export function correctionBody(prompts: SlicePrompt[], baseVersion: number): CorrectionRequest | null {
  if (correctionProblems(prompts).length) return null;
  const boxes = prompts.map((p) => [...p.box!] as Box);
  const body: CorrectionRequest = { base_version: baseVersion, slice: prompts[0].slice };
  if (boxes.length === 1) {
    body.box = boxes[0];
    const points = prompts[0].points ?? [];
    if (points.length) body.points = points.map((p) => [p[0], p[1], p[2]]);
  } else {
    body.boxes = boxes;
  }
  return body;
}

/** The line under the buttons while a correction is drawn. */
export function correctionStatus(prompts: SlicePrompt[]): { text: string; ok: boolean } {
  const problems = correctionProblems(prompts);
  if (problems.length) return { text: problems.join(" "), ok: false };
  const slice = prompts[0].slice + 1;
  const boxes = prompts.length;
  const points = prompts[0].points?.length ?? 0;
  const what = boxes > 1 ? `${boxes} boxes` : points ? `a box and ${points} click${points > 1 ? "s" : ""}`
    : "a box";
  return { text: `Ready: ${what} on slice ${slice}. Press "Re-segment from this slice".`, ok: true };
}

/** Why a correction cannot start now, or null when it can. */
export function correctionBlocked(unsavedEdit: boolean, editable: boolean, jobRunning: boolean): string | null {
  if (!editable) return "Only the latest version of your own unconfirmed draft can be corrected.";
  if (unsavedEdit) {
    return "Save or undo your brush edit first: a correction starts from a saved version.";
  }
  if (jobRunning) return "Wait for the running job to finish.";
  return null;
}

/** What a finished correction job changed, from the result's new version (``version``, the
 * one the job names) and its provenance. */
export function describeCorrection(job: Job, version: MaskVersion | undefined): string {
  if (job.status === "failed") return `The correction failed: ${job.error || "the worker reported an error"}`;
  if (job.status === "cancelled") return "The correction was cancelled; the draft is unchanged.";
  if (job.mask_version === null || job.mask_version === undefined) {
    return "The correction left the draft unchanged: no new version.";
  }
  const slices = (version?.provenance as { slices?: [number, number] } | null | undefined)?.slices;
  if (!slices) return `Stored as version ${job.mask_version}.`;
  const [first, last] = slices;
  const which = first === last ? `Slice ${first + 1}` : `Slices ${first + 1} to ${last + 1}`;
  return `${which} re-segmented; version ${job.mask_version}.`;
}

/** What the panel needs of the open result (ResultView). */
export interface CorrectionTarget {
  result: Result | null;
  shownVersion: number;
  editable: boolean;
  edit: { hasChanges: boolean } | null;
}

/** "Correct from a slice" under the edit tools: start, draw, send, follow, report. */
export class CorrectionPanel {
  /** The result being corrected while in correction mode, else null. */
  private correcting: number | null = null;
  private template: Interaction = correctionTemplate(null);
  /** The job this panel sent, until it finishes. */
  private jobId: string | null = null;
  private readonly startButton = document.getElementById("correct-start") as HTMLButtonElement;
  private readonly submitButton = document.getElementById("correct-submit") as HTMLButtonElement;
  private readonly cancelButton = document.getElementById("correct-cancel") as HTMLButtonElement;
  private readonly status = document.getElementById("correct-status")!;

  constructor(
    private readonly target: CorrectionTarget,
    private readonly layer: PromptLayer,
    private readonly tools: Tools,
    private readonly progress: JobProgress,
    /** Gives the prompt layer and the prompt panel back their normal state. */
    private readonly restorePrompt: () => void,
  ) {
    this.startButton.addEventListener("click", () => void this.start());
    this.submitButton.addEventListener("click", () => void this.submit());
    this.cancelButton.addEventListener("click", () => this.leave());
  }

  get active(): boolean {
    return this.correcting !== null;
  }

  private say(text: string, kind: "ok" | "notice" | "error" | "fineprint" = "fineprint"): void {
    this.status.textContent = text;
    this.status.className = kind;
  }

  async start(): Promise<void> {
    const result = this.target.result;
    const blocked = correctionBlocked(!!this.target.edit?.hasChanges, this.target.editable,
      this.progress.running);
    if (blocked || !result) {
      this.say(blocked ?? "Open a draft first.", "error");
      return;
    }
    this.startButton.disabled = true;
    let interaction: Interaction | null = null;
    try {
      interaction = (await getJson<PromptVersion>(urls.version(result.prompt_version))).content.interaction;
    } catch (error) {
      this.startButton.disabled = false;
      this.say(describeFailure("Loading the draft's protocol", error,
        "Press \"Correct with a box\" again."), "error");
      return;
    }
    if (this.target.result?.id !== result.id || !this.target.editable) {
      this.startButton.disabled = false;
      return;
    }
    this.correcting = result.id;
    this.template = correctionTemplate(interaction);
    this.layer.setTemplate(this.template, result.prompt.colour, acceptsPoints(this.template));
    const segment = document.getElementById("prompt-submit") as HTMLButtonElement | null;
    if (segment) segment.disabled = true;
    this.tools.use("prompt");
    this.startButton.hidden = true;
    this.submitButton.hidden = false;
    this.cancelButton.hidden = false;
    this.update();
  }

  /** The layer changed: say what is still missing, or that it may be sent. */
  update(): void {
    if (!this.active) return;
    const { text, ok } = correctionStatus(this.layer.prompts);
    const hint = acceptsPoints(this.template) && ok
      ? " Click inside the structure to add an inside point, Shift-click for an outside one." : "";
    this.say(text + hint, ok ? "ok" : "notice");
    this.submitButton.disabled = !ok || this.progress.running;
  }

  async submit(): Promise<void> {
    const id = this.correcting;
    if (id === null || this.progress.running) return;
    if (this.target.edit?.hasChanges) {
      this.say(correctionBlocked(true, true, false)!, "error");
      return;
    }
    const body = correctionBody(this.layer.prompts, this.target.shownVersion);
    if (!body) {
      this.update();
      return;
    }
    this.submitButton.disabled = true;
    this.say("Sending the correction…");
    let job: Job;
    try {
      job = await postJson<Job>(urls.corrections(id), body);
    } catch (error) {
      this.update();
      if (error instanceof ApiError && error.status === 409) {
        // The draft moved on (another tab saved a version) or its protocol was retired.
        const why = error.field("version") ?? error.field("prompt_version") ?? error.message;
        this.say(`Re-segmenting from this slice failed: ${why} Open the latest version of ` +
          "the draft and correct it again.", "error");
      } else {
        this.say(describeFailure("Re-segmenting from this slice", error, "Change the box if " +
          "the server says what is wrong, then press \"Re-segment from this slice\" again."),
        "error");
      }
      return;
    }
    this.jobId = job.id;
    this.leave();
    this.say(`Re-segmenting from slice ${body.slice + 1}…`);
    this.progress.follow(job);
  }

  /** Whether ``job`` is the correction this panel sent. */
  owns(job: Job): boolean {
    return job.id === this.jobId;
  }

  /** The job this panel sent has finished; ``result`` is the draft as reloaded after it. */
  finished(job: Job, result: Result | null): void {
    if (!this.owns(job)) return;
    this.jobId = null;
    const version = result?.mask_versions.find((v) => v.number === job.mask_version);
    this.say(describeCorrection(job, version), job.status === "succeeded" ? "ok" : "error");
  }

  /** A result was shown: leave correction mode when it is not the one being corrected or
   * can no longer be corrected (another version, another result, signed). */
  shown(resultId: number | null, editable: boolean): void {
    if (this.active && (resultId !== this.correcting || !editable)) this.leave();
  }

  /** Back to the normal prompt panel; the drawn correction is dropped. */
  leave(): void {
    const was = this.active;
    this.correcting = null;
    this.startButton.hidden = false;
    this.startButton.disabled = false;
    this.submitButton.hidden = true;
    this.cancelButton.hidden = true;
    if (was) {
      this.say("");
      this.restorePrompt();
    }
  }
}
