// What a radiology viewer prints around the image: patient and study, series, window/level
// and zoom, slice number and position, and the patient-orientation letters at the edges.
import { metaData, type Types } from "@cornerstonejs/core";
import type { SeriesLayout } from "./api";
import { edgeLetters, sliceLocation as locationAlongNormal, type Edge } from "./geometry";
import type { Stage } from "./setup";

// DICOM patient axes (LPS): +x left, +y posterior, +z head.
const AXES: [Types.Point3, string, string][] = [
  [[1, 0, 0], "L", "R"],
  [[0, 1, 0], "P", "A"],
  [[0, 0, 1], "H", "F"],
];

function text(id: string, lines: string[]): void {
  const element = document.getElementById(id);
  if (element) element.textContent = lines.filter(Boolean).join("\n");
}

/** The letter of the patient direction that points most toward each screen edge. */
export function orientationLetters(stage: Stage): Record<Edge, string> {
  const { viewport } = stage;
  const camera = viewport.getCamera();
  const centre = camera.focalPoint as Types.Point3;
  const origin = viewport.worldToCanvas(centre);
  return edgeLetters(AXES.map(([axis, plus, minus]) => {
    const tip = viewport.worldToCanvas([
      centre[0] + axis[0] * 10, centre[1] + axis[1] * 10, centre[2] + axis[2] * 10,
    ]);
    return { dx: tip[0] - origin[0], dy: tip[1] - origin[1], plus, minus };
  }));
}

function sliceLocation(imageId: string): string {
  const plane = metaData.get("imagePlaneModule", imageId) as
    | { imagePositionPatient?: number[]; rowCosines?: number[]; columnCosines?: number[];
        sliceThickness?: number }
    | undefined;
  const p = plane?.imagePositionPatient;
  const r = plane?.rowCosines;
  const c = plane?.columnCosines;
  if (!p || !r || !c) return "";
  const location = locationAlongNormal(p, r, c);
  const thickness = plane?.sliceThickness ? `  thk ${plane.sliceThickness} mm` : "";
  return `Loc ${location.toFixed(1)} mm${thickness}`;
}

export function updateCorners(stage: Stage, layout: SeriesLayout): void {
  const { viewport } = stage;
  const index = viewport.getCurrentImageIdIndex();
  const imageId = stage.imageIds[index];
  const voi = viewport.getProperties().voiRange;
  const zoom = viewport.getZoom?.() ?? 1;
  const date = layout.study_date.replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");
  text("corner-tl", [layout.patient_display_name || layout.patient_name || "(no name)", layout.patient_id, date]);
  text("corner-tr", [layout.modality, layout.description]);
  text("corner-bl", [
    voi ? `W ${Math.round(voi.upper - voi.lower)}  L ${Math.round((voi.upper + voi.lower) / 2)}` : "",
    `Zoom ${zoom.toFixed(2)}×`,
  ]);
  text("corner-br", [`Im ${index + 1} / ${stage.imageIds.length}`, sliceLocation(imageId)]);
  // A series whose source does not establish the patient orientation (no
  // ImageOrientationPatient, or converted from a format that does not record it) gets no
  // direction letters, which would be a guess, and a banner saying so (issue 19).
  const established = (layout as Layout).orientation_established !== false;
  const letters = established ? orientationLetters(stage) : null;
  for (const edge of ["top", "bottom", "left", "right"] as const) {
    text(`marker-${edge}`, [letters ? letters[edge] : ""]);
  }
  orientationWarning(established);
}

type Layout = SeriesLayout & { orientation_established?: boolean };

export const ORIENTATION_WARNING =
  "Orientation not established by the source: patient directions (L/R, A/P, H/F) are not shown";

/** The banner over the image while the orientation is not established. */
function orientationWarning(established: boolean): void {
  let banner = document.getElementById("orientation-warning");
  if (established) {
    banner?.remove();
    return;
  }
  if (banner) return;
  const anchor = document.getElementById("marker-top")?.parentElement;
  if (!anchor) return;
  banner = document.createElement("div");
  banner.id = "orientation-warning";
  banner.setAttribute("role", "alert");
  banner.textContent = ORIENTATION_WARNING;
  Object.assign(banner.style, {
    position: "absolute", top: "4px", left: "25%", right: "25%", zIndex: "5",
    padding: "4px 8px", background: "rgba(180, 120, 0, 0.9)", color: "#fff",
    font: "bold 13px sans-serif", textAlign: "center", pointerEvents: "none",
  });
  anchor.appendChild(banner);
}
