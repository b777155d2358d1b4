// The QA reading in the viewer, its pure part: what the panel offers for a case (drawing the
// reviewer's own mask, the confirmed mask, the agreement, the verdict form), the checks on a
// verdict before it is sent, the agreement figures, the "box" manual tool and the undo stack
// of the reviewer's own mask. qa.ts puts it on screen.
import type { Signature } from "./api";

export type QaMode = "show_mask" | "independent";
export type QaState = "sampled" | "in_review" | "agreed" | "disagreed" | "adjudicated";

/** The review API's QA item (review/serializers.py), as much of it as the viewer uses. The
 * first reading's fields are null there while the reading is blind; the viewer never asks
 * for them. */
export interface QaItem {
  id: number;
  state: QaState;
  mode: QaMode;
  blinded: boolean;
  confirmed_mask_visible: boolean;
  reader_mask_stored: boolean;
  reader_dice: number | null;
  verdict: "" | "agree" | "disagree";
  verdict_reason: string;
  reviewer: string | null;
  review_signature: Signature | null;
  mask_shape: [number, number, number];
}

export interface QaView {
  /** The reviewer paints their own mask (independent mode, before it is stored). */
  draw: boolean;
  /** The confirmed mask may be fetched and overlaid (the server's word). */
  confirmedMask: boolean;
  /** The agreement of the stored own mask with the confirmed one is shown. */
  agreement: boolean;
  verdictForm: boolean;
  /** What the reviewer is told about the reading's state and blinding. */
  note: string;
}

export function qaView(item: QaItem, mine: boolean): QaView {
  const independent = item.mode === "independent";
  const reading = item.state === "in_review" && mine;
  const draw = independent && reading && !item.reader_mask_stored;
  let note: string;
  if (item.state === "sampled") {
    note = "This case is not taken yet: press \"Read this case\" on the QA case page first.";
  } else if (item.state === "in_review" && !mine) {
    note = `${item.reviewer ?? "Another reviewer"} is reading this case.`;
  } else if (draw) {
    note = "Blinded reading: the confirmed mask, the first reader and their edits are hidden " +
      "until you store your own mask.";
  } else if (reading) {
    note = "Blinded reading: the first reader, their edits and signature are hidden until " +
      "you sign your verdict.";
  } else {
    note = `This case is ${item.state.replace("_", " ")}; the verdict is recorded.`;
  }
  return {
    draw,
    confirmedMask: item.confirmed_mask_visible,
    agreement: independent && item.reader_mask_stored && item.confirmed_mask_visible,
    verdictForm: reading && (!independent || item.reader_mask_stored),
    note,
  };
}

/** Why the verdict cannot be sent as filled in, or null when it can. */
export function verdictProblem(verdict: string | null, reason: string, password: string):
    string | null {
  if (verdict !== "agree" && verdict !== "disagree") return "Choose agree or disagree.";
  if (verdict === "disagree" && !reason.trim()) {
    return "Say what is wrong with the confirmed mask: a reason is required when you disagree.";
  }
  if (!password) return "Enter your password to sign.";
  return null;
}

export function countVoxels(mask: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  return count;
}

/** Millilitres per voxel from the pixel spacing (mm) and the distance between slices (mm);
 * null when any of them is unknown. */
export function voxelVolumeMl(rowSpacing: number | undefined, columnSpacing: number | undefined,
                              sliceGap: number | undefined): number | null {
  const values = [rowSpacing, columnSpacing, sliceGap];
  if (values.some((v) => v === undefined || !Number.isFinite(v) || v <= 0)) return null;
  return (rowSpacing! * columnSpacing! * sliceGap!) / 1000;
}

/** The agreement table: Dice (the server's, computed when the mask was stored), each mask's
 * size and the volume difference, yours minus the confirmed one, also relative to it. The
 * voxel counts are known only in the session that stored the mask (null otherwise). */
export function agreementRows(dice: number | null, readerVoxels: number | null,
                              confirmedVoxels: number | null, voxelMl: number | null):
    [string, string][] {
  const rows: [string, string][] = [["Dice", dice === null ? "not known" : dice.toFixed(3)]];
  const size = (voxels: number) =>
    voxelMl === null ? `${voxels} voxels` : `${(voxels * voxelMl).toFixed(2)} mL (${voxels} voxels)`;
  if (readerVoxels !== null) rows.push(["Your mask", size(readerVoxels)]);
  if (confirmedVoxels !== null) rows.push(["Confirmed mask", size(confirmedVoxels)]);
  if (readerVoxels !== null && confirmedVoxels !== null) {
    const difference = readerVoxels - confirmedVoxels;
    const amount = voxelMl === null ? `${difference > 0 ? "+" : ""}${difference} voxels`
      : `${difference > 0 ? "+" : ""}${(difference * voxelMl).toFixed(2)} mL`;
    const relative = confirmedVoxels > 0
      ? ` (${difference > 0 ? "+" : ""}${((100 * difference) / confirmedVoxels).toFixed(1)} %)` : "";
    rows.push(["Volume difference", amount + relative]);
  }
  return rows;
}

/** The "box" manual tool: ``slice`` (rows x cols, one byte per pixel) with the box (column,
 * row corners in image pixels, either order) filled in; pixels whose centre lies inside. */
export function fillBox(slice: Uint8Array, rows: number, cols: number,
                        box: [number, number, number, number]): Uint8Array {
  const filled = slice.slice();
  const [x0, x1] = [Math.min(box[0], box[2]), Math.max(box[0], box[2])];
  const [y0, y1] = [Math.min(box[1], box[3]), Math.max(box[1], box[3])];
  const c0 = Math.max(0, Math.ceil(x0 - 0.5)), c1 = Math.min(cols - 1, Math.floor(x1 - 0.5));
  const r0 = Math.max(0, Math.ceil(y0 - 0.5)), r1 = Math.min(rows - 1, Math.floor(y1 - 0.5));
  for (let r = r0; r <= r1; r++) filled.fill(1, r * cols + c0, r * cols + c1 + 1);
  return filled;
}

/** What the undo stack needs of a labelmap. */
export interface SliceStore {
  readSlice(index: number): Uint8Array;
  writeSlice(index: number, values: Uint8Array): void;
}

const UNDO_DEPTH = 50;

/** The reviewer's own mask while it is painted: brush, eraser and box strokes, each undoable
 * (the stack is this reading's own, as editing.ts explains for drafts). */
export class ReaderEdit {
  private undoStack: { slice: number; values: Uint8Array }[] = [];
  painted = false;

  constructor(private readonly store: SliceStore,
              private readonly onState: (canUndo: boolean, message: string) => void) {}

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  strokeStarting(slice: number): void {
    this.undoStack.push({ slice, values: this.store.readSlice(slice) });
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }

  strokeEnded(): void {
    this.painted = true;
    this.onState(this.canUndo, "Painted; store your mask when it is complete.");
  }

  /** Fill ``box`` on ``slice`` (rows x cols), as one undoable stroke. */
  fill(slice: number, rows: number, cols: number, box: [number, number, number, number]): void {
    this.strokeStarting(slice);
    this.store.writeSlice(slice, fillBox(this.store.readSlice(slice), rows, cols, box));
    this.strokeEnded();
  }

  undo(): number | null {
    const last = this.undoStack.pop();
    if (!last) return null;
    this.store.writeSlice(last.slice, last.values);
    this.onState(this.canUndo, this.canUndo ? "Undone." : "Back to where you started.");
    return last.slice;
  }
}
