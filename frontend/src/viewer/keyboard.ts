// Keyboard shortcuts a radiologist expects; ignored while typing in a field or a dialog.
import type { Types } from "@cornerstonejs/core";
import type { PrimaryTool } from "./tools";

export interface ShortcutActions {
  viewport: Types.IStackViewport;
  useTool: (tool: PrimaryTool) => void;
  preset: (index: number) => void;
  reset: () => void;
  invert: () => void;
  toggleOverlay: () => void;
  brushSize: (delta: number) => void;
  undo: () => void;
  save: () => void;
  escape: () => void;
  /** A jump to another slice failed (its image did not load). */
  sliceFailed: (error: unknown) => void;
}

const TOOL_KEYS: Record<string, PrimaryTool> = {
  w: "windowLevel", z: "zoom", p: "pan", b: "prompt", d: "brush", e: "eraser",
};

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)
    || element.isContentEditable || !!element.closest("dialog"));
}

export function bindShortcuts(actions: ShortcutActions): void {
  document.addEventListener("keydown", (event) => {
    if (typing(event.target)) return;
    const { viewport } = actions;
    const last = viewport.getImageIds().length - 1;
    const index = viewport.getCurrentImageIdIndex();
    const key = event.key;
    const ctrl = event.ctrlKey || event.metaKey;
    const go = (slice: number) => void viewport.setImageIdIndex(slice).catch(actions.sliceFailed);
    let handled = true;
    if (ctrl && key.toLowerCase() === "z") actions.undo();
    else if (ctrl && key.toLowerCase() === "s") actions.save();
    else if (ctrl || event.altKey) handled = false;
    else if (key === "ArrowUp" || key === "ArrowLeft") viewport.scroll(-1);
    else if (key === "ArrowDown" || key === "ArrowRight") viewport.scroll(1);
    else if (key === "PageUp") go(Math.max(0, index - 10));
    else if (key === "PageDown") go(Math.min(last, index + 10));
    else if (key === "Home") go(0);
    else if (key === "End") go(last);
    else if (TOOL_KEYS[key.toLowerCase()]) actions.useTool(TOOL_KEYS[key.toLowerCase()]);
    else if (/^[1-9]$/.test(key)) actions.preset(Number(key) - 1);
    else if (key.toLowerCase() === "r") actions.reset();
    else if (key.toLowerCase() === "i") actions.invert();
    else if (key.toLowerCase() === "o") actions.toggleOverlay();
    else if (key === "[") actions.brushSize(-2);
    else if (key === "]") actions.brushSize(2);
    else if (key === "Escape") actions.escape();
    else handled = false;
    if (handled) event.preventDefault();
  });
}
