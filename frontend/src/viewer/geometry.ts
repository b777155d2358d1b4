// The viewer's geometry that needs no Cornerstone: slice planes from DICOM direction cosines
// (patient axes LPS: +x left, +y posterior, +z head), the patient-direction letter for each
// screen edge, and page -> canvas -> image-pixel bounds. Cornerstone does canvas <-> world
// <-> image pixel (viewport.canvasToWorld, utilities.worldToImageCoords); this is the rest.

export type Vec3 = [number, number, number];
export type Plane = "axial" | "coronal" | "sagittal";
export type Edge = "top" | "bottom" | "left" | "right";

/** The slice normal, row cosines x column cosines (DICOM Image Orientation (Patient)). */
export function sliceNormal(rowCosines: number[], columnCosines: number[]): Vec3 {
  const [r, c] = [rowCosines, columnCosines];
  return [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
}

/** axial, coronal or sagittal from the slice normal; null when oblique (no patient axis
 * within about 37 degrees of the normal). */
export function planeOf(rowCosines: number[], columnCosines: number[]): Plane | null {
  const axis = sliceNormal(rowCosines, columnCosines).map(Math.abs);
  const largest = Math.max(...axis);
  if (largest < 0.8) return null;
  return (["sagittal", "coronal", "axial"] as const)[axis.indexOf(largest)];
}

/** Where the slice lies along its normal, in mm (what a viewer prints as "Loc"). */
export function sliceLocation(position: number[], rowCosines: number[], columnCosines: number[]) {
  const n = sliceNormal(rowCosines, columnCosines);
  return position[0] * n[0] + position[1] * n[1] + position[2] * n[2];
}

/** One patient axis as drawn on screen: canvas pixels (dx right, dy down) per step along
 * +axis, and the letters of its two directions. */
export interface ScreenAxis {
  dx: number;
  dy: number;
  plus: string;
  minus: string;
}

/** The letter of the patient direction that points most toward each screen edge; empty
 * where no axis has any component toward it. */
export function edgeLetters(axes: ScreenAxis[]): Record<Edge, string> {
  const edge = (sx: number, sy: number) => {
    const ranked = axes
      .map((d) => ({ d, along: d.dx * sx + d.dy * sy }))
      .filter(({ along }) => Math.abs(along) > 1e-3)
      .sort((a, b) => Math.abs(b.along) - Math.abs(a.along));
    const best = ranked[0];
    if (!best) return "";
    return best.along > 0 ? best.d.plus : best.d.minus;
  };
  return { right: edge(1, 0), left: edge(-1, 0), bottom: edge(0, 1), top: edge(0, -1) };
}

/** Page coordinates of a pointer event to canvas coordinates of the element at ``rect``. */
export function pageToCanvas(clientX: number, clientY: number,
                             rect: { left: number; top: number }): [number, number] {
  return [clientX - rect.left, clientY - rect.top];
}

/** An image-pixel point (column, row) kept on the image: a drag that leaves the image ends
 * at its edge. */
export function clampToImage([x, y]: [number, number], rows: number,
                             columns: number): [number, number] {
  return [Math.min(columns, Math.max(0, x)), Math.min(rows, Math.max(0, y))];
}
