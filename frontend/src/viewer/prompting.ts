// The prompt layer: the box or clicks the chosen entry's interaction template asks for, drawn
// on an SVG over the viewport and kept in image pixels (column, row) of their stack slice.
//
// Cornerstone3D's RectangleROITool (and ProbeTool for clicks) could draw these, but not as a
// prompt: what a new box does is the template's to say (template.ts: how many, one per
// slice, a new box replacing the old one), a click needs its inside/outside label, and its
// annotations live in the shared annotation state with ROI statistics recomputed on every
// drag, to be kept apart from the brush and cleared on every template change. A prompt is
// transient input to one job, so it stays on its own layer, in Cornerstone's coordinates.
import { metaData, utilities, type Types } from "@cornerstonejs/core";
import type { Interaction } from "./api";
import { clampToImage, pageToCanvas, planeOf } from "./geometry";
import type { Box, ShownPreview } from "./preview";
import type { Stage } from "./setup";
import { templateProblems, withBox, withPoint, type SlicePrompt } from "./template";

export type { SlicePrompt } from "./template";

const SVG = "http://www.w3.org/2000/svg";

export class PromptLayer {
  private template: Interaction | null = null;
  private colour = "#ffd400";
  /** A box template that takes inside/outside clicks on the box's slice (a correction). */
  private pointsWithBox = false;
  private items: SlicePrompt[] = [];
  private dragStart: [number, number] | null = null;
  private dragNow: [number, number] | null = null;
  /** performance.now() when the last box or click was released (bench/viewer_bench.py). */
  lastRelease = 0;
  /** Told the box as it is dragged, (x0, y0, x1, y1) in image pixels (the live preview). */
  onDrag: ((slice: number, box: Box) => void) | null = null;
  private preview: ShownPreview | null = null;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly stage: Stage,
    private readonly onChange: () => void,
  ) {
    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
    svg.addEventListener("contextmenu", (e) => e.preventDefault());
    svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      stage.viewport.scroll(Math.sign(e.deltaY));
    }, { passive: false });
  }

  /** ``pointsWithBox``: with a box drawn on the slice, a click (a drag too small to be a box)
   * adds a point to it, inside, or outside with Shift (a correction's prompt). */
  setTemplate(template: Interaction | null, colour: string | null, pointsWithBox = false): void {
    this.template = template;
    this.pointsWithBox = pointsWithBox;
    this.colour = colour || "#ffd400";
    this.clear();
  }

  setEnabled(enabled: boolean): void {
    this.svg.classList.toggle("active", enabled && this.template !== null);
  }

  get prompts(): SlicePrompt[] {
    return this.items;
  }

  /** The stack index of the slice shown. */
  get currentSlice(): number {
    return this.stage.viewport.getCurrentImageIdIndex();
  }

  /** How many slices the series has. */
  get sliceCount(): number {
    return this.stage.imageIds.length;
  }

  /** Told when the prompt is cleared (a new protocol, Clear, or the draft arrived). */
  onCleared: (() => void) | null = null;

  clear(): void {
    this.items = [];
    this.preview = null;
    this.onCleared?.();
    this.redraw();
    this.onChange();
  }

  /** What keeps the prompt from fitting the template; empty when it may be submitted. */
  problems(): string[] {
    return templateProblems(this.template, this.items, acquisitionPlane(this.stage.imageIds[0]));
  }

  /** Page -> canvas (ours), canvas -> world -> image pixel (Cornerstone), kept on the image. */
  private imagePoint(event: PointerEvent): [number, number] {
    const canvas = pageToCanvas(event.clientX, event.clientY, this.svg.getBoundingClientRect());
    const world = this.stage.viewport.canvasToWorld(canvas);
    const imageId = this.stage.viewport.getCurrentImageId();
    const [x, y] = utilities.worldToImageCoords(imageId, world) ?? [0, 0];
    const [rows, cols] = imageSize(imageId);
    return clampToImage([x, y], rows, cols);
  }

  private down(event: PointerEvent): void {
    if (event.button !== 0 || !this.template) return;
    this.svg.setPointerCapture(event.pointerId);
    this.dragStart = this.dragNow = this.imagePoint(event);
  }

  private move(event: PointerEvent): void {
    if (!this.dragStart) return;
    this.dragNow = this.imagePoint(event);
    this.redraw();
    if (this.template?.tool === "box" && this.onDrag) {
      const [a, b] = [this.dragStart, this.dragNow];
      this.onDrag(this.currentSlice, [Math.min(a[0], b[0]), Math.min(a[1], b[1]),
        Math.max(a[0], b[0]), Math.max(a[1], b[1])]);
    }
  }

  /** The live preview to draw (null: none), distinct from the stored draft's overlay. */
  setPreview(preview: ShownPreview | null): void {
    this.preview = preview;
    this.redraw();
  }

  get previewShown(): ShownPreview | null {
    return this.preview;
  }

  private up(event: PointerEvent): void {
    if (!this.dragStart || !this.template) return;
    const start = this.dragStart;
    const end = this.imagePoint(event);
    this.dragStart = this.dragNow = null;
    const slice = this.stage.viewport.getCurrentImageIdIndex();
    if (this.template.tool === "box") {
      const changed = withBox(this.items, this.template, slice, start, end);
      if (!changed && this.pointsWithBox && this.items.some((p) => p.slice === slice && p.box)) {
        this.items = withPoint(this.items, slice, end, !event.shiftKey);
      } else if (!changed) {
        this.redraw();
        return;
      } else {
        this.items = changed;
      }
    } else {
      this.items = withPoint(this.items, slice, end, !event.shiftKey);
    }
    this.lastRelease = performance.now();
    this.redraw();
    this.onChange();
  }

  redraw(): void {
    while (this.svg.firstChild) this.svg.removeChild(this.svg.firstChild);
    const slice = this.stage.viewport.getCurrentImageIdIndex();
    const imageId = this.stage.imageIds[slice];
    if (this.preview && this.preview.slice === slice) this.drawPreview(imageId, this.preview);
    for (const prompt of this.items.filter((p) => p.slice === slice)) {
      if (prompt.box) this.drawBox(imageId, prompt.box, false);
      for (const [x, y, label] of prompt.points ?? []) this.drawPoint(imageId, x, y, label);
    }
    if (this.dragStart && this.dragNow && this.template?.tool === "box") {
      const [a, b] = [this.dragStart, this.dragNow];
      this.drawBox(imageId, [a[0], a[1], b[0], b[1]], true);
    }
  }

  /** Page coordinates of image pixel (x, y) on the current slice (tests and bench). */
  clientPoint(x: number, y: number): [number, number] {
    const [cx, cy] = this.toCanvas(this.stage.viewport.getCurrentImageId(), x, y);
    const rect = this.svg.getBoundingClientRect();
    return [rect.left + cx, rect.top + cy];
  }

  private toCanvas(imageId: string, x: number, y: number): Types.Point2 {
    const world = utilities.imageToWorldCoords(imageId, [x, y]);
    return world ? this.stage.viewport.worldToCanvas(world) : [-1, -1];
  }

  private drawBox(imageId: string, box: number[], dragging: boolean): void {
    const [x0, y0, x1, y1] = box;
    const corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) =>
      this.toCanvas(imageId, x, y).join(","),
    );
    const polygon = document.createElementNS(SVG, "polygon");
    polygon.setAttribute("points", corners.join(" "));
    polygon.setAttribute("class", dragging ? "prompt-box dragging" : "prompt-box");
    polygon.setAttribute("stroke", this.colour);
    this.svg.appendChild(polygon);
  }

  /** The preview's crop as a tinted image over its pixels, labelled: never the draft. */
  private drawPreview(imageId: string, preview: ShownPreview): void {
    const [rows, cols] = preview.shape;
    if (!rows || !cols) return;
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [cols, rows];
    const context = canvas.getContext("2d")!;
    const image = context.createImageData(cols, rows);
    const [r, g, b] = rgb(this.colour);
    for (let i = 0; i < preview.pixels.length; i++) {
      if (!preview.pixels[i]) continue;
      image.data.set([r, g, b, 110], i * 4);
    }
    context.putImageData(image, 0, 0);
    const [row0, col0] = preview.origin;
    const [x0, y0] = this.toCanvas(imageId, col0, row0);
    const [x1, y1] = this.toCanvas(imageId, col0 + cols, row0 + rows);
    const picture = document.createElementNS(SVG, "image");
    picture.setAttribute("href", canvas.toDataURL());
    picture.setAttribute("x", String(Math.min(x0, x1)));
    picture.setAttribute("y", String(Math.min(y0, y1)));
    picture.setAttribute("width", String(Math.abs(x1 - x0)));
    picture.setAttribute("height", String(Math.abs(y1 - y0)));
    picture.setAttribute("preserveAspectRatio", "none");
    picture.setAttribute("class", "preview-mask");
    this.svg.appendChild(picture);
    const label = document.createElementNS(SVG, "text");
    const [bx, by] = this.toCanvas(imageId, preview.box[0], preview.box[1]);
    label.setAttribute("x", String(bx));
    label.setAttribute("y", String(by - 6));
    label.setAttribute("class", "preview-label");
    label.textContent = "Preview, not saved";
    this.svg.appendChild(label);
  }

  private drawPoint(imageId: string, x: number, y: number, label: number): void {
    const [cx, cy] = this.toCanvas(imageId, x, y);
    const circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("cx", String(cx));
    circle.setAttribute("cy", String(cy));
    circle.setAttribute("r", "5");
    circle.setAttribute("class", label ? "prompt-point inside" : "prompt-point outside");
    this.svg.appendChild(circle);
  }
}

/** "#rrggbb" as [r, g, b]; yellow when it is not one. */
function rgb(colour: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  return match ? [1, 2, 3].map((i) => parseInt(match[i], 16)) as [number, number, number]
    : [255, 212, 0];
}

function imageSize(imageId: string): [number, number] {
  const pixel = metaData.get("imagePixelModule", imageId) as { rows: number; columns: number };
  return [pixel.rows, pixel.columns];
}

/** axial, coronal or sagittal from the slice normal, or null when oblique or unknown. */
export function acquisitionPlane(imageId: string): string | null {
  const plane = metaData.get("imagePlaneModule", imageId) as
    | { rowCosines?: number[]; columnCosines?: number[] }
    | undefined;
  const [r, c] = [plane?.rowCosines, plane?.columnCosines];
  return r && c ? planeOf(r, c) : null;
}
