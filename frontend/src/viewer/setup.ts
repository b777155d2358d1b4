// Cornerstone3D start-up and the stack viewport of one series. The stack's image order is the
// server's volume order (GET .../layout), so stack index k is slice k of every mask and job.
import {
  Enums,
  RenderingEngine,
  init as coreInit,
  type Types,
} from "@cornerstonejs/core";
import { init as toolsInit } from "@cornerstonejs/tools";
import dicomImageLoader from "@cornerstonejs/dicom-image-loader";
import { getJson, urls, type SeriesLayout } from "./api";

export const RENDERING_ENGINE_ID = "medsam-engine";
export const VIEWPORT_ID = "medsam-stack";

let initialised = false;

export async function initCornerstone(): Promise<void> {
  if (initialised) return;
  coreInit();
  toolsInit();
  // The frames endpoint answers 406 to a bare "application/octet-stream" Accept (DRF content
  // negotiation); "*/*" lets it send its multipart/related native frames.
  dicomImageLoader.init({
    maxWebWorkers: 1,
    beforeSend: () => ({ Accept: "multipart/related; type=application/octet-stream, */*" }),
  });
  initialised = true;
}

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

/** wadors: image ids in volume order, with each instance's metadata registered. */
export async function loadImageIds(layout: SeriesLayout): Promise<string[]> {
  const metadata = await getJson<DicomJson[]>(urls.metadata(layout));
  const bySop = new Map<string, DicomJson>();
  for (const item of metadata) {
    const sop = item["00080018"]?.Value?.[0];
    if (typeof sop === "string") bySop.set(sop, item);
  }
  const origin = window.location.origin;
  return layout.frames.map(({ sop_uid, frame }) => {
    const imageId = `wadors:${origin}${urls.frame(layout, sop_uid, frame)}`;
    const instance = bySop.get(sop_uid);
    if (!instance) throw new Error(`The series metadata lacks instance ${sop_uid}.`);
    if (frame === 1) dicomImageLoader.wadors.metaDataManager.add(imageId, instance as never);
    return imageId;
  });
}

export interface Stage {
  engine: RenderingEngine;
  viewport: Types.IStackViewport;
  element: HTMLDivElement;
  imageIds: string[];
}

export async function openStack(
  element: HTMLDivElement,
  imageIds: string[],
  firstIndex: number,
): Promise<Stage> {
  const engine = new RenderingEngine(RENDERING_ENGINE_ID);
  engine.enableElement({
    viewportId: VIEWPORT_ID,
    type: Enums.ViewportType.STACK,
    element,
    defaultOptions: { background: [0, 0, 0] },
  });
  const viewport = engine.getViewport(VIEWPORT_ID) as Types.IStackViewport;
  await viewport.setStack(imageIds, firstIndex);
  viewport.render();
  new ResizeObserver(() => engine.resize(true, true)).observe(element);
  return { engine, viewport, element, imageIds };
}
