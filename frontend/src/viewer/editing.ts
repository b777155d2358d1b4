// Editing a draft with the brush and eraser: each stroke can be undone within the session,
// and each save is a new immutable mask version on the server (409 when someone saved first).
import { ApiError, postJson, urls, type MaskVersion } from "./api";
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

  async save(note: string): Promise<MaskVersion | null> {
    if (!this.dirty) return null;
    this.report("Saving…");
    const data = await encodeMask(this.labelmap.read());
    try {
      const version = await postJson<MaskVersion>(urls.versions(this.resultId), {
        base_version: this.baseVersion, data, note,
      });
      this.baseVersion = version.number;
      this.undoStack = [];
      this.dirty = false;
      this.report(`Saved as version ${version.number}.`);
      return version;
    } catch (error) {
      const message = error instanceof ApiError && error.status === 409
        ? `${error.field("version") ?? error.message} Your edit is kept on screen.`
        : `Not saved: ${error instanceof Error ? error.message : error}`;
      this.report(message);
      throw error;
    }
  }

  private report(message: string): void {
    this.onState({ dirty: this.dirty, canUndo: this.undoStack.length > 0, message });
  }
}
