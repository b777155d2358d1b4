// Editing a draft with the brush and eraser: each stroke can be undone within the session,
// and each save is a new immutable mask version on the server (409 when someone saved first).
//
// Cornerstone3D's BrushTool also records its strokes in core's DefaultHistoryMemo, but that
// ring is one per page and shared: zoom and pan memos land in it too (an undo could undo a
// zoom), and it has no way to be cleared, so memos of a labelmap removed for another result
// or version stay in it. Undo here must restore strokes of this draft only, say when the edit is back to
// the saved version, and scroll to the slice it restored, so the session keeps its own stack.
import { ApiError, describeFailure, postJson, urls, type MaskVersion } from "./api";
import type { Labelmap } from "./labelmap";
import { encodeMask } from "./maskcodec";

interface Snapshot {
  slice: number;
  values: Uint8Array;
}

const UNDO_DEPTH = 50;

export class EditSession {
  private undoStack: Snapshot[] = [];
  private dirty = false;

  constructor(
    private readonly resultId: number,
    private baseVersion: number,
    private readonly labelmap: Labelmap,
    private readonly onState: (state: { dirty: boolean; canUndo: boolean; message: string }) => void,
  ) {
    this.report("");
  }

  get hasChanges(): boolean {
    return this.dirty;
  }

  /** Called as a brush or eraser stroke starts on ``slice``. */
  strokeStarting(slice: number): void {
    this.undoStack.push({ slice, values: this.labelmap.readSlice(slice) });
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }

  strokeEnded(): void {
    this.dirty = true;
    this.report("Unsaved edit.");
  }

  undo(): number | null {
    const last = this.undoStack.pop();
    if (!last) return null;
    this.labelmap.writeSlice(last.slice, last.values);
    this.dirty = this.undoStack.length > 0;
    this.report(this.dirty ? "Unsaved edit." : "Back to the saved version.");
    return last.slice;
  }

  /** The new version, or null when nothing was saved; either way the edit panel says so.
   * A failed save keeps the edit on screen to be saved again. */
  async save(note: string): Promise<MaskVersion | null> {
    if (!this.dirty) return null;
    this.report("Saving…");
    try {
      const data = await encodeMask(this.labelmap.read());
      const version = await postJson<MaskVersion>(urls.versions(this.resultId), {
        base_version: this.baseVersion, data, note,
      });
      this.baseVersion = version.number;
      this.undoStack = [];
      this.dirty = false;
      this.report(`Saved as version ${version.number}.`);
      return version;
    } catch (error) {
      this.report(error instanceof ApiError && error.status === 409
        ? `${error.field("version") ?? error.message} Your edit is kept on screen.`
        : describeFailure("Saving the edit", error,
          "Your edit is kept on screen: press Save edit again."));
      return null;
    }
  }

  private report(message: string): void {
    this.onState({ dirty: this.dirty, canUndo: this.undoStack.length > 0, message });
  }
}
