// The open result on the viewport: its mask as a labelmap, the version shown, the edit
// session on a draft, and the confirm / reject buttons (annotators only).
import { Enums } from "@cornerstonejs/core";
import { getBytes, getJson, urls, type Result, type SeriesLayout } from "./api";
import { EditSession } from "./editing";
import { Labelmap } from "./labelmap";
import { decodeMask } from "./maskcodec";
import { isDraft, renderResult, renderResultList, showReferenceDice } from "./results";
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
  readonly timings: ViewerTimings = { overlayDrawnAt: 0, overlayResult: null, overlayVersion: null };

  constructor(
    private readonly stage: Stage,
    private readonly layout: SeriesLayout,
    private readonly canEdit: boolean,
    private readonly onEditable: (editable: boolean) => void,
    onReprompt: (promptVersion: number) => void,
  ) {
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

  /** Whether the signed-in user owns the open draft (only the owner edits and signs it). */
  get owns(): boolean {
    const me = Number(document.getElementById("viewer-app")?.dataset.user);
    return !this.result?.owner || this.result.owner.id === me;
  }

  get editable(): boolean {
    const latest = this.result?.mask_versions.at(-1)?.number;
    return this.canEdit && !!this.result && isDraft(this.result) && !this.result.stale &&
      this.owns && this.shownVersion === latest;
  }

  /** Reload the series' results; open ``openId``, or keep the open one. */
  async refresh(openId: number | null = this.result?.id ?? null): Promise<void> {
    const page = await getJson<{ results: Result[] }>(urls.results(this.layout.series));
    this.results = page.results;
    const id = openId ?? this.results[0]?.id ?? null;
    renderResultList(document.getElementById("result-list")!, this.results, id,
      (chosen) => void this.open(chosen));
    if (id !== null) await this.open(id);
  }

  async open(id: number, version?: number): Promise<void> {
    if (this.edit?.hasChanges && !window.confirm("Discard the unsaved edit?")) return;
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
    renderResult(result, this.shownVersion, (n) => void this.open(result.id, n));
    void showReferenceDice(result, this.shownVersion);
    renderResultList(document.getElementById("result-list")!, this.results, result.id,
      (chosen) => void this.open(chosen));
    const editable = this.editable;
    document.getElementById("edit-tools")!.hidden = !editable;
    document.getElementById("decision")!.hidden = !(this.canEdit && isDraft(result) && this.owns);
    const confirm = document.getElementById("confirm-open") as HTMLButtonElement;
    confirm.disabled = !!result.stale;
    confirm.title = result.stale ? (result.stale_reason ?? "") : "";
    this.edit = editable && this.labelmap
      ? new EditSession(result.id, this.shownVersion, this.labelmap, (state) => {
          (document.getElementById("edit-undo") as HTMLButtonElement).disabled = !state.canUndo;
          (document.getElementById("edit-save") as HTMLButtonElement).disabled = !state.dirty;
          document.getElementById("edit-status")!.textContent = state.message;
        })
      : null;
    this.onEditable(editable);
  }

  toggleOverlay(): void {
    const box = document.getElementById("overlay-visible") as HTMLInputElement;
    box.checked = !box.checked;
    this.labelmap?.setVisible(box.checked);
  }

  undo(): void {
    const slice = this.edit?.undo();
    if (slice !== null && slice !== undefined) {
      void this.stage.viewport.setImageIdIndex(slice);
    }
  }

  async save(): Promise<void> {
    if (!this.edit?.hasChanges || !this.result) return;
    const saved = await this.edit.save("Edited with brush and eraser in the viewer");
    if (saved) {
      // The version just saved is the one on screen and the one a signature will cover.
      const current = this.result;
      this.shownVersion = saved.number;
      this.result = { ...current, state: "edited", mask_versions: [...current.mask_versions, saved] };
      this.results = this.results.map((r) => (r.id === current.id ? this.result! : r));
      renderResult(this.result, saved.number, (n) => void this.open(current.id, n));
      void showReferenceDice(this.result, saved.number);
      renderResultList(document.getElementById("result-list")!, this.results, current.id,
        (chosen) => void this.open(chosen));
    }
  }

  private decide(decision: "confirm" | "reject"): void {
    if (!this.result) return;
    if (this.edit?.hasChanges) {
      document.getElementById("decision-status")!.textContent =
        "Save or undo your edit before signing: a signature covers a saved version.";
      return;
    }
    const latest = this.result.mask_versions.at(-1)!.number;
    if (this.shownVersion !== latest) {
      document.getElementById("decision-status")!.textContent =
        `You are looking at version ${this.shownVersion}; open version ${latest} to sign it.`;
      return;
    }
    document.getElementById("decision-status")!.textContent = "";
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
