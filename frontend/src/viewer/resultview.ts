// The open result on the viewport: its mask as a labelmap, the version shown, the edit
// session on a draft, and the confirm / reject buttons (annotators only).
import { Enums } from "@cornerstonejs/core";
import { describeFailure, getBytes, getJson, urls, type Result, type SeriesLayout } from "./api";
import { EditSession } from "./editing";
import { Labelmap } from "./labelmap";
import { decodeMask } from "./maskcodec";
import {
  panelState, renderResult, renderResultList, showReferenceDice, signingBlocked, withAgreement,
  withSavedVersion, type PanelState,
} from "./results";
import type { Stage } from "./setup";
import { SignDialog } from "./signing";

export interface ViewerTimings {
  /** performance.now() when the last overlay finished drawing, and for which result. */
  overlayDrawnAt: number;
  overlayResult: number | null;
  overlayVersion: number | null;
}

export class ResultView {
  result: Result | null = null;
  shownVersion = 0;
  edit: EditSession | null = null;
  private labelmap: Labelmap | null = null;
  private results: Result[] = [];
  private readonly signDialog: SignDialog;
  /** Why the last load or open failed, under the list of results (hidden when none). */
  private readonly problem: HTMLParagraphElement;
  readonly timings: ViewerTimings = { overlayDrawnAt: 0, overlayResult: null, overlayVersion: null };
  /** The result whose pending agreement check is being polled, if any. */
  private agreementWatch: number | null = null;

  constructor(
    private readonly stage: Stage,
    private readonly layout: SeriesLayout,
    private readonly canEdit: boolean,
    private readonly onEditable: (editable: boolean) => void,
    onReprompt: (promptVersion: number) => void,
  ) {
    this.problem = document.createElement("p");
    this.problem.id = "result-error";
    this.problem.className = "error";
    this.problem.setAttribute("role", "alert");
    this.problem.hidden = true;
    document.getElementById("result-list")!.after(this.problem);
    // refresh, open and save report their own failures in the panel; nothing here rejects.
    this.signDialog = new SignDialog((signed) => void this.refresh(signed.id));
    document.getElementById("confirm-open")!.addEventListener("click", () => this.decide("confirm"));
    document.getElementById("reject-open")!.addEventListener("click", () => this.decide("reject"));
    document.getElementById("overlay-visible")!.addEventListener("change", (event) => {
      this.labelmap?.setVisible((event.target as HTMLInputElement).checked);
    });
    document.getElementById("edit-undo")!.addEventListener("click", () => this.undo());
    document.getElementById("edit-save")!.addEventListener("click", () => void this.save());
    document.getElementById("reprompt")!.addEventListener("click", () => {
      if (this.result) onReprompt(this.result.prompt_version);
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.edit?.hasChanges) event.preventDefault();
    });
  }

  /** The open result's panel as the signed-in user may use it. */
  private view(result: Result): PanelState {
    const userId = Number(document.getElementById("viewer-app")?.dataset.user);
    return panelState(result, { canEdit: this.canEdit, userId, shownVersion: this.shownVersion });
  }

  get editable(): boolean {
    return !!this.result && this.view(this.result).editable;
  }

  private fail(action: string, error: unknown, next?: string): void {
    console.error(error);
    this.problem.textContent = describeFailure(action, error, next);
    this.problem.hidden = false;
  }

  private clearProblem(): void {
    this.problem.hidden = true;
    this.problem.textContent = "";
  }

  /** Reload the series' results; open ``openId``, or keep the open one. A failure is shown
   * in the panel (never thrown), so a bad result cannot keep the viewer from starting. */
  async refresh(openId: number | null = this.result?.id ?? null): Promise<void> {
    let page: { results: Result[] };
    try {
      page = await getJson<{ results: Result[] }>(urls.results(this.layout.series));
    } catch (error) {
      this.fail("Loading the results of this series", error);
      return;
    }
    this.results = page.results;
    const id = openId ?? this.results[0]?.id ?? null;
    renderResultList(document.getElementById("result-list")!, this.results, id,
      (chosen) => void this.open(chosen));
    if (id !== null) await this.open(id);
    else this.clearProblem();
  }

  /** Show result ``id`` (at ``version``, else its latest); a failure is shown in the panel and
   * leaves the result that was open on screen, or none if it was half replaced. */
  async open(id: number, version?: number): Promise<void> {
    if (this.edit?.hasChanges && !window.confirm("Discard the unsaved edit?")) return;
    const before = this.labelmap;
    try {
      await this.show(id, version);
      this.clearProblem();
    } catch (error) {
      if (this.labelmap !== before) this.clear();
      this.fail(`Opening result ${id}`, error, "The other results can still be opened; " +
        "reload the page, and if it keeps failing, report this result to your site administrator.");
    }
  }

  private async show(id: number, version?: number): Promise<void> {
    const result = await getJson<Result>(urls.result(id));
    const number = version ?? result.mask_versions.at(-1)!.number;
    const { bytes, headers } = await getBytes(urls.mask(id, number));
    const shape = (headers.get("X-Mask-Shape") ?? "").split(",").map(Number);
    if (shape.join() !== this.layout.shape.join()) {
      if (!result.stale) {
        throw new Error(`The mask (${shape}) does not fit the series (${this.layout.shape}).`);
      }
      // A stale result made on fewer images: its record and banner, without an overlay.
      this.labelmap?.remove();
      this.labelmap = null;
      this.result = result;
      this.shownVersion = number;
      this.render();
      return;
    }
    const mask = await decodeMask(bytes, this.layout.shape);
    this.labelmap?.remove();
    this.labelmap = null;
    this.labelmap = await Labelmap.create(`result-${id}-v${number}-${Date.now()}`,
      this.stage.imageIds, this.layout.shape, result.prompt.colour, result.prompt.opacity);
    this.labelmap.load(mask);
    this.result = result;
    this.shownVersion = number;
    (document.getElementById("overlay-visible") as HTMLInputElement).checked = true;
    this.afterRender(() => {
      this.timings.overlayDrawnAt = performance.now();
      this.timings.overlayResult = id;
      this.timings.overlayVersion = number;
    });
    this.stage.viewport.render();
    this.render();
    this.watchAgreement(id);
  }

  /** While the open result's agreement check is pending (it runs on the worker after the
   * result is stored), ask again every half second for up to two minutes and show its outcome:
   * the flag and the figure appear and Confirm is enabled. Only the record and the buttons are
   * redrawn, so an edit begun meanwhile is kept. */
  private watchAgreement(id: number): void {
    if (!this.result?.agreement_pending || this.agreementWatch === id) return;
    this.agreementWatch = id;
    const deadline = Date.now() + 120_000;
    const poll = async (): Promise<void> => {
      let polled: Result | null = null;
      try {
        polled = await getJson<Result>(urls.result(id));
      } catch (error) {
        console.warn("polling the agreement check", error);
      }
      if (this.result?.id !== id || this.agreementWatch !== id) return;
      if (polled && !polled.agreement_pending) {
        this.agreementWatch = null;
        this.result = withAgreement(this.result, polled);
        this.renderRecord(this.view(this.result));
      } else if (Date.now() > deadline) {
        this.agreementWatch = null;
        this.fail("Waiting for the prompt-agreement check", new Error("it has not finished"),
          "Reload the page in a minute; Confirm is enabled once the check is recorded.");
      } else {
        window.setTimeout(() => void poll(), 500);
      }
    };
    window.setTimeout(() => void poll(), 300);
  }

  private afterRender(callback: () => void): void {
    const element = this.stage.element;
    const handler = () => {
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, handler);
      callback();
    };
    element.addEventListener(Enums.Events.IMAGE_RENDERED, handler);
  }

  private render(): void {
    const result = this.result;
    if (!result) return;
    const view = this.view(result);
    this.showPanel(result, view);
    const editable = view.editable;
    document.getElementById("edit-tools")!.hidden = !editable;
    this.renderDecision(view);
    this.edit = editable && this.labelmap
      ? new EditSession(result.id, this.shownVersion, this.labelmap, (state) => {
          (document.getElementById("edit-undo") as HTMLButtonElement).disabled = !state.canUndo;
          (document.getElementById("edit-save") as HTMLButtonElement).disabled = !state.dirty;
          document.getElementById("edit-status")!.textContent = state.message;
        })
      : null;
    this.onEditable(editable);
  }

  private renderDecision(view: PanelState): void {
    document.getElementById("decision")!.hidden = !view.decision;
    const confirm = document.getElementById("confirm-open") as HTMLButtonElement;
    confirm.disabled = view.confirmBlocked !== null;
    confirm.title = view.confirmBlocked ?? "";
  }

  /** The record and the decision buttons of the open result, the edit session untouched. */
  private renderRecord(view: PanelState): void {
    const result = this.result!;
    renderResult(result, view, this.shownVersion, (n) => void this.open(result.id, n));
    this.renderDecision(view);
  }

  /** The record, the reference Dice (which reports its own failures) and the list. */
  private showPanel(result: Result, view: PanelState): void {
    renderResult(result, view, this.shownVersion, (n) => void this.open(result.id, n));
    void showReferenceDice(result, this.shownVersion);
    renderResultList(document.getElementById("result-list")!, this.results, result.id,
      (chosen) => void this.open(chosen));
  }

  toggleOverlay(): void {
    const box = document.getElementById("overlay-visible") as HTMLInputElement;
    box.checked = !box.checked;
    this.labelmap?.setVisible(box.checked);
  }

  undo(): void {
    const slice = this.edit?.undo();
    if (slice !== null && slice !== undefined) {
      this.stage.viewport.setImageIdIndex(slice).catch((error: unknown) => {
        document.getElementById("edit-status")!.textContent = describeFailure(
          `Undone; showing slice ${slice + 1}`, error, "Scroll to that slice to see the undo.");
      });
    }
  }

  /** Save the edit as a new version; the edit session reports success or failure in the
   * edit panel (and keeps the edit on screen when it fails). */
  async save(): Promise<void> {
    if (!this.edit?.hasChanges || !this.result) return;
    const saved = await this.edit.save("Edited with brush and eraser in the viewer");
    if (saved && this.result) {
      // The version just saved is the one on screen and the one a signature will cover.
      const current = this.result;
      this.shownVersion = saved.number;
      this.result = withSavedVersion(current, saved);
      this.results = this.results.map((r) => (r.id === current.id ? this.result! : r));
      this.showPanel(this.result, this.view(this.result));
    }
  }

  private decide(decision: "confirm" | "reject"): void {
    if (!this.result) return;
    const status = document.getElementById("decision-status")!;
    const blocked = signingBlocked(!!this.edit?.hasChanges, this.shownVersion,
      this.view(this.result).latestVersion);
    status.textContent = blocked ?? "";
    if (blocked) return;
    this.signDialog.open(decision, this.result, this.shownVersion);
  }

  clear(): void {
    this.labelmap?.remove();
    this.labelmap = null;
    this.result = null;
    this.edit = null;
    document.getElementById("result")!.hidden = true;
    document.getElementById("draft-stamp")!.hidden = true;
  }
}
