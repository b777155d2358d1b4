// The chosen prompt entry: its instructions and rules, the tool its template asks for, and
// Segment, enabled only when the drawn prompt fits the template.
import { describeFailure, postJson, urls, type Job, type PromptVersion } from "./api";
import { asksExtent, describeExtent, extentProblems, jobGeometry, withEnd, type Extent } from "./extent";
import type { JobProgress } from "./progress";
import type { PromptLayer } from "./prompting";
import { describeRule, promptStatus } from "./template";
import type { Tools } from "./tools";
import type { Windowing } from "./windowing";

export class PromptPanel {
  version: PromptVersion | null = null;
  private readonly root = document.getElementById("prompt-chosen")!;
  private readonly status = document.getElementById("prompt-status")!;
  private readonly submitButton = document.getElementById("prompt-submit") as HTMLButtonElement;
  /** "First slice here" / "Last slice here" and the marked slices, for a protocol that asks
   * for the structure's extent (extent.ts). */
  private readonly extentBox = document.getElementById("prompt-extent");
  private readonly extentStatus = document.getElementById("prompt-extent-status");
  private extent: Extent = {};

  constructor(
    private readonly seriesId: number,
    private readonly layer: PromptLayer,
    private readonly windowing: Windowing,
    private readonly tools: Tools,
    private readonly progress: JobProgress,
    /** What to say, instead of the server's refusal, when a job is refused (the QA reading:
     * the reviewer goes on with the manual tools); null keeps the default message. */
    private readonly explainRefusal: (error: unknown) => string | null = () => null,
    /** Called when a protocol is chosen (the viewer starts prefetching embeddings). */
    private readonly onChoose: (version: PromptVersion) => void = () => undefined,
  ) {
    this.submitButton.addEventListener("click", () => void this.submit());
    document.getElementById("prompt-clear")!.addEventListener("click", () => {
      this.extent = {};
      layer.clear();
      this.update();
    });
    document.getElementById("prompt-extent-first")?.addEventListener("click", () =>
      this.markEnd("first"));
    document.getElementById("prompt-extent-last")?.addEventListener("click", () =>
      this.markEnd("last"));
  }

  /** The shown slice as the structure's first or last. */
  markEnd(end: "first" | "last"): void {
    this.extent = withEnd(this.extent, end, this.layer.currentSlice);
    this.update();
  }

  /** What keeps the drawn prompt and the marked slices from being submitted. */
  problems(): string[] {
    const template = this.version?.content.interaction ?? null;
    return [...this.layer.problems(),
      ...extentProblems(template, this.extent, this.layer.prompts, this.layer.sliceCount)];
  }

  choose(version: PromptVersion): void {
    this.version = version;
    this.onChoose(version);
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
    this.extent = {};
    if (this.extentBox) this.extentBox.hidden = !asksExtent(content.interaction);
    this.layer.setTemplate(content.interaction, content.display?.colour ?? null);
    this.windowing.setProtocol(content.name, content.image?.window);
    this.tools.use("prompt");
    this.update();
  }

  /** After a correction drew on the layer: the chosen entry's template again (nothing drawn),
   * or no template when none was chosen. */
  restore(): void {
    const content = this.version?.content;
    this.layer.setTemplate(content?.interaction ?? null, content?.display?.colour ?? null);
    if (!content) this.submitButton.disabled = true;
    this.update();
  }

  update(): void {
    if (!this.version) return;
    const problems = this.problems();
    const { text, ok } = promptStatus(this.version.content.interaction, this.layer.prompts, problems);
    if (this.extentStatus) this.extentStatus.textContent = describeExtent(this.extent);
    this.status.textContent = text;
    this.status.className = ok ? "ok" : "notice";
    this.submitButton.disabled = !ok || this.progress.running;
  }

  async submit(): Promise<void> {
    if (!this.version || this.problems().length || this.progress.running) return;
    this.submitButton.disabled = true;
    try {
      const job = await postJson<Job>(urls.jobs, {
        series: this.seriesId,
        prompt_version: this.version.id,
        geometry: jobGeometry(this.version.content.interaction, this.layer.prompts, this.extent),
      });
      this.progress.follow(job);
      this.update();
    } catch (error) {
      this.update();
      // After update(), which would put "Ready" over the refusal.
      this.status.textContent = this.explainRefusal(error) ?? describeFailure(
        "Starting the segmentation", error,
        "Correct the prompt if the server says what is wrong, then press Segment again.");
      this.status.className = "error";
    }
  }
}
