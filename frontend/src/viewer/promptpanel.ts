// The chosen prompt entry: its instructions and rules, the tool its template asks for, and
// Segment, enabled only when the drawn prompt fits the template.
import { ApiError, postJson, urls, type Interaction, type Job, type PromptVersion } from "./api";
import type { JobProgress } from "./progress";
import type { PromptLayer } from "./prompting";
import type { Tools } from "./tools";
import type { Windowing } from "./windowing";

const SLICE_RULES: Record<string, string> = {
  largest_cross_section: "the slice where the structure looks largest",
  longest_diameter: "the slice with the structure's longest diameter",
  central: "the central slice of the structure",
};

export function describeRule(interaction: Interaction): string {
  const what = interaction.tool === "box"
    ? `${interaction.count} box${interaction.count === 1 ? "" : "es"}`
    : `${interaction.count} click${interaction.count === 1 ? "" : "s"}`;
  const plane = interaction.plane ? ` on the ${interaction.plane} plane` : "";
  const slice = interaction.slice ? `, on ${SLICE_RULES[interaction.slice] ?? interaction.slice}` : "";
  const within = interaction.slice_tolerance_mm ? ` (±${interaction.slice_tolerance_mm} mm)` : "";
  const tolerance = interaction.tolerance
    ? ` Placement tolerance ${interaction.tolerance.value} ${interaction.tolerance.unit}.` : "";
  return `Protocol: ${what}${plane}${slice}${within}.${tolerance}`;
}

export class PromptPanel {
  version: PromptVersion | null = null;
  private readonly root = document.getElementById("prompt-chosen")!;
  private readonly status = document.getElementById("prompt-status")!;
  private readonly submitButton = document.getElementById("prompt-submit") as HTMLButtonElement;

  constructor(
    private readonly seriesId: number,
    private readonly layer: PromptLayer,
    private readonly windowing: Windowing,
    private readonly tools: Tools,
    private readonly progress: JobProgress,
  ) {
    this.submitButton.addEventListener("click", () => void this.submit());
    document.getElementById("prompt-clear")!.addEventListener("click", () => layer.clear());
  }

  choose(version: PromptVersion): void {
    this.version = version;
    const content = version.content;
    this.root.hidden = false;
    this.root.dataset.key = version.key;
    this.root.querySelector<HTMLElement>(".swatch")!.style.background = content.display?.colour ?? "";
    this.root.querySelector(".chosen-name strong")!.textContent = content.name;
    this.root.querySelector(".version")!.textContent =
      `v${version.number} · ${content.engine?.name ?? ""}`;
    // Source files wrap lines by hand; a blank line is a paragraph break.
    this.root.querySelector(".instructions")!.textContent =
      content.instructions.trim().replace(/([^\n])\n(?!\n)/g, "$1 ");
    this.root.querySelector(".rule")!.textContent =
      `${describeRule(content.interaction)} ${content.interaction.placement ?? ""}`;
    this.layer.setTemplate(content.interaction, content.display?.colour ?? null);
    this.windowing.setProtocol(content.name, content.image?.window);
    this.tools.use("prompt");
    this.update();
  }

  update(): void {
    if (!this.version) return;
    const problems = this.layer.problems();
    const tool = this.version.content.interaction.tool === "box" ? "box" : "click";
    this.status.textContent = problems.length
      ? problems.join(" ")
      : `Ready: ${tool} on slice ${this.layer.prompts.map((p) => p.slice + 1).join(", ")}.`;
    this.status.className = problems.length ? "notice" : "ok";
    this.submitButton.disabled = problems.length > 0 || this.progress.running;
  }

  async submit(): Promise<void> {
    if (!this.version || this.layer.problems().length || this.progress.running) return;
    this.submitButton.disabled = true;
    try {
      const job = await postJson<Job>(urls.jobs, {
        series: this.seriesId,
        prompt_version: this.version.id,
        geometry: { prompts: this.layer.prompts },
      });
      this.progress.follow(job);
    } catch (error) {
      this.status.textContent = error instanceof ApiError ? error.message : String(error);
      this.status.className = "error";
    } finally {
      this.update();
    }
  }
}
