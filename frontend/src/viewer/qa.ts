// The QA reading in the viewer (the page opened with ?qa=<item>): the confirmed mask overlaid
// read-only where the reading may show it, the reviewer's own mask painted and stored in the
// independent mode, the agreement once it is stored, and the signed verdict. Everything it
// reads comes through the review API, which applies the blinding (review/blinding.py): the
// confirmed mask is fetched only when the server says it is visible, and nothing of the
// first reading (who, edits, signature) is ever asked for.
import { Enums, metaData } from "@cornerstonejs/core";
import {
  ApiError, describeFailure, getBytes, getJson, postJson, urls, type SeriesLayout,
} from "./api";
import { Labelmap } from "./labelmap";
import { decodeMask, encodeMask } from "./maskcodec";
import {
  agreementRows, countVoxels, qaView, ReaderEdit, verdictProblem, voxelVolumeMl, type QaItem,
} from "./qamodel";
import type { SlicePrompt } from "./template";
import type { Stage } from "./setup";

/** The colour of the confirmed mask beside the reviewer's own (the entry's colour). */
const CONFIRMED_COLOUR = "#ff40ff";

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

export interface QaConfig {
  item: number;
  mine: boolean;
  itemUrl: string;
  verdictUrl: string;
  readerMaskUrl: string | null;
  caseUrl: string;
}

export function qaConfig(root: HTMLElement): QaConfig | null {
  const data = root.dataset;
  if (!data.qaItem) return null;
  return {
    item: Number(data.qaItem),
    mine: data.qaMine === "1",
    itemUrl: data.qaItemUrl ?? "",
    verdictUrl: data.qaVerdictUrl ?? "",
    readerMaskUrl: data.qaReaderMaskUrl ?? null,
    caseUrl: data.qaCaseUrl ?? "",
  };
}

export class QaReading {
  item: QaItem | null = null;
  edit: ReaderEdit | null = null;
  private own: Labelmap | null = null;
  private confirmed: Labelmap | null = null;
  private readerVoxels: number | null = null;
  private confirmedVoxels: number | null = null;
  private storing = false;
  /** performance.now() when the confirmed mask was drawn (browser tests). */
  confirmedShownAt = 0;

  constructor(
    private readonly stage: Stage,
    private readonly layout: SeriesLayout,
    private readonly config: QaConfig,
    private readonly colour: string | null,
    private readonly onEditable: (editable: boolean) => void,
  ) {
    byId("qa-undo").addEventListener("click", () => this.undo());
    byId("qa-store").addEventListener("click", () => void this.store());
    byId("qa-overlay").addEventListener("change", (event) => {
      this.setVisible((event.target as HTMLInputElement).checked);
    });
    byId("qa-verdict").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.sign();
    });
    document.querySelector<HTMLElement>("#qa-reading .swatch")!.style.background = colour ?? "";
    window.addEventListener("beforeunload", (event) => {
      if (this.edit?.painted && !this.item?.reader_mask_stored) event.preventDefault();
    });
  }

  /** Load the case as the server shows it to this reviewer now; a failure is said in the
   * panel (never thrown). */
  async start(): Promise<void> {
    this.onEditable(false);
    try {
      this.item = await getJson<QaItem>(this.config.itemUrl);
    } catch (error) {
      this.error(describeFailure("Loading the QA case", error));
      return;
    }
    await this.render();
  }

  private async render(): Promise<void> {
    const item = this.item!;
    const view = qaView(item, this.config.mine);
    byId("qa-state").textContent = item.state.replace("_", " ");
    byId("qa-blind").textContent = view.note;
    byId("qa-draw").hidden = !view.draw;
    byId("qa-verdict").hidden = !view.verdictForm;
    if (view.draw && !this.own) {
      this.own = await Labelmap.create(`qa-${item.id}-own-${Date.now()}`, this.stage.imageIds,
        this.layout.shape, this.colour, 0.5);
      this.edit = new ReaderEdit(this.own, (canUndo, message) => {
        byId<HTMLButtonElement>("qa-undo").disabled = !canUndo;
        byId("qa-draw-status").textContent = message;
      });
      this.stage.viewport.render();
    }
    if (!view.draw) {
      this.edit = null;
      // The protocol panel is for drawing the own mask; nothing to segment once it is stored.
      const protocol = document.getElementById("prompt-chosen");
      if (protocol) protocol.hidden = true;
    }
    this.onEditable(view.draw);
    if (view.confirmedMask && !this.confirmed) await this.showConfirmed();
    byId("qa-overlay-label").hidden = !(this.own || this.confirmed);
    this.legend();
    byId("qa-agreement").hidden = !view.agreement;
    if (view.agreement) {
      const table = byId("qa-agreement-table");
      table.replaceChildren(...agreementRows(item.reader_dice, this.readerVoxels,
        this.confirmedVoxels, this.voxelMl()).map(([label, value]) => {
        const row = document.createElement("tr");
        const th = document.createElement("th");
        const td = document.createElement("td");
        th.textContent = label;
        td.textContent = value;
        row.append(th, td);
        return row;
      }));
    }
    if (item.verdict) {
      const signature = item.review_signature?.manifestation ?? "";
      this.status(`Verdict recorded: ${item.verdict}${item.verdict_reason
        ? ` (${item.verdict_reason})` : ""}. ${signature}`);
    }
  }

  /** The confirmed mask, read-only: asked for only when the server says it is visible. */
  private async showConfirmed(): Promise<void> {
    if (!this.item?.confirmed_mask_visible) return;
    try {
      const { bytes, headers } = await getBytes(`${this.config.itemUrl}/mask`);
      const shape = (headers.get("X-Mask-Shape") ?? "").split(",").map(Number);
      if (shape.join() !== this.layout.shape.join()) {
        throw new Error(`The confirmed mask (${shape}) does not fit the series (${this.layout.shape}).`);
      }
      const mask = await decodeMask(bytes, this.layout.shape);
      this.confirmedVoxels = countVoxels(mask);
      this.confirmed = await Labelmap.create(`qa-${this.item.id}-confirmed-${Date.now()}`,
        this.stage.imageIds, this.layout.shape,
        this.own ? CONFIRMED_COLOUR : this.colour, this.own ? 0.35 : 0.5);
      this.confirmed.load(mask);
      const element = this.stage.element;
      const drawn = () => {
        element.removeEventListener(Enums.Events.IMAGE_RENDERED, drawn);
        this.confirmedShownAt = performance.now();
      };
      element.addEventListener(Enums.Events.IMAGE_RENDERED, drawn);
      this.stage.viewport.render();
    } catch (error) {
      this.error(describeFailure("Showing the confirmed mask", error,
        "Reload the page; if it keeps failing, report the case to your site administrator."));
    }
  }

  private legend(): void {
    const parts: string[] = [];
    if (this.own) parts.push("your mask in the structure's colour");
    if (this.confirmed) {
      parts.push(this.own ? "the confirmed mask in magenta" : "the confirmed mask (read-only)");
    }
    byId("qa-legend").textContent = parts.length ? `Shown: ${parts.join("; ")}.` : "";
  }

  private setVisible(visible: boolean): void {
    this.own?.setVisible(visible);
    this.confirmed?.setVisible(visible);
  }

  toggleOverlay(): void {
    const box = byId<HTMLInputElement>("qa-overlay");
    box.checked = !box.checked;
    this.setVisible(box.checked);
  }

  undo(): void {
    const slice = this.edit?.undo();
    if (slice !== null && slice !== undefined) {
      this.stage.viewport.setImageIdIndex(slice).catch(() => undefined);
    }
  }

  /** The "box" manual tool: fill the drawn prompt boxes into the own mask. */
  fillBoxes(prompts: SlicePrompt[]): boolean {
    if (!this.edit) return false;
    const boxes = prompts.filter((p) => p.box);
    for (const prompt of boxes) {
      this.edit.fill(prompt.slice, this.layout.shape[1], this.layout.shape[2], prompt.box!);
    }
    return boxes.length > 0;
  }

  /** A draft the engine made for the reviewer (where the server lets them run jobs): its
   * latest mask becomes the start of their own mask, to edit before storing. */
  async loadDraft(resultId: number): Promise<void> {
    if (!this.own || !this.edit) return;
    try {
      const { bytes } = await getBytes(urls.latestMask(resultId));
      const mask = await decodeMask(bytes, this.layout.shape);
      for (let k = 0; k < this.layout.shape[0]; k++) this.edit.strokeStarting(k);
      this.own.load(mask);
      this.edit.strokeEnded();
      this.stage.viewport.render();
    } catch (error) {
      byId("qa-draw-status").textContent = describeFailure("Loading the segmentation", error,
        "Paint your mask with the brush instead.");
    }
  }

  /** Store the own mask (once); the answer discloses the confirmed mask and the Dice. */
  async store(): Promise<void> {
    if (!this.own || !this.config.readerMaskUrl || this.storing) return;
    const mask = this.own.read();
    const voxels = countVoxels(mask);
    if (voxels === 0 && !window.confirm("Your mask is empty. Store it anyway?")) return;
    this.storing = true;
    const button = byId<HTMLButtonElement>("qa-store");
    button.disabled = true;
    byId("qa-draw-status").textContent = "Storing your mask…";
    try {
      this.item = await postJson<QaItem>(this.config.readerMaskUrl,
        { data: await encodeMask(mask) });
      this.readerVoxels = voxels;
      this.error("");
      await this.render();
    } catch (error) {
      byId("qa-draw-status").textContent = describeFailure("Storing your mask", error,
        "Your mask is kept on screen: press Store my mask again.");
      button.disabled = false;
    } finally {
      this.storing = false;
    }
  }

  private async sign(): Promise<void> {
    const form = byId<HTMLFormElement>("qa-verdict");
    const verdict = form.querySelector<HTMLInputElement>("input[name=qa-verdict]:checked")?.value ?? null;
    const reason = byId<HTMLTextAreaElement>("qa-reason").value;
    const password = byId<HTMLInputElement>("qa-password");
    const problem = verdictProblem(verdict, reason, password.value);
    if (problem) {
      this.error(problem);
      return;
    }
    const button = byId<HTMLButtonElement>("qa-sign");
    button.disabled = true;
    try {
      this.item = await postJson<QaItem>(this.config.verdictUrl,
        { verdict, reason: reason.trim(), password: password.value });
      password.value = "";
      this.error("");
      await this.render();
    } catch (error) {
      password.value = "";
      const field = error instanceof ApiError
        ? (error.field("password") ?? error.field("reason") ?? error.field("mask")
          ?? error.field("state")) : undefined;
      this.error(field ? `Not signed: ${field}` : describeFailure("Signing the verdict", error,
        "Nothing was signed: enter your password and sign again."));
    } finally {
      button.disabled = false;
    }
  }

  /** mL per voxel from the images' geometry, or null when it is not known. */
  private voxelMl(): number | null {
    const ids = this.stage.imageIds;
    const plane = (id: string) => metaData.get("imagePlaneModule", id) as {
      rowPixelSpacing?: number; columnPixelSpacing?: number; sliceThickness?: number;
      imagePositionPatient?: number[];
    } | undefined;
    const first = plane(ids[0]);
    if (!first) return null;
    let gap = first.sliceThickness;
    const second = ids.length > 1 ? plane(ids[1]) : undefined;
    if (first.imagePositionPatient && second?.imagePositionPatient) {
      const [a, b] = [first.imagePositionPatient, second.imagePositionPatient];
      gap = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    }
    return voxelVolumeMl(first.rowPixelSpacing, first.columnPixelSpacing, gap);
  }

  private error(text: string): void {
    byId("qa-error").textContent = text;
  }

  private status(text: string): void {
    byId("qa-status").textContent = text;
  }
}
