// A result's mask as a Cornerstone labelmap over the stack: one derived image per slice, in
// the entry's colour, scrolling with the images and painted by the brush and eraser tools.
import { cache, imageLoader, type Types } from "@cornerstonejs/core";
import { Enums as ToolEnums, segmentation } from "@cornerstonejs/tools";
import type { Shape } from "./api";
import { VIEWPORT_ID } from "./setup";

const LABELMAP = ToolEnums.SegmentationRepresentations.Labelmap;
const SEGMENT = 1;

export function hexToRgb(colour: string | null | undefined): [number, number, number] {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour ?? "");
  if (!match) return [255, 200, 0];
  return [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)];
}

export class Labelmap {
  private constructor(
    readonly id: string,
    readonly shape: Shape,
    private readonly sliceImageIds: string[],
  ) {}

  static async create(
    id: string,
    sourceImageIds: string[],
    shape: Shape,
    colour: string | null,
    opacity: number | null,
  ): Promise<Labelmap> {
    const images = imageLoader.createAndCacheDerivedLabelmapImages(sourceImageIds);
    const labelmap = new Labelmap(id, shape, images.map((image) => image.imageId));
    segmentation.addSegmentations([
      {
        segmentationId: id,
        representation: { type: LABELMAP, data: { imageIds: labelmap.sliceImageIds } },
      },
    ]);
    segmentation.addLabelmapRepresentationToViewport(VIEWPORT_ID, [{ segmentationId: id }]);
    segmentation.activeSegmentation.setActiveSegmentation(VIEWPORT_ID, id);
    segmentation.segmentIndex.setActiveSegmentIndex(id, SEGMENT);
    segmentation.config.color.setSegmentIndexColor(VIEWPORT_ID, id, SEGMENT, [
      ...hexToRgb(colour),
      255,
    ] as Types.Color);
    segmentation.config.style.setStyle(
      { viewportId: VIEWPORT_ID, segmentationId: id, type: LABELMAP },
      { fillAlpha: opacity ?? 0.5, renderOutline: true, outlineWidth: 2, outlineOpacity: 1 },
    );
    return labelmap;
  }

  private sliceData(index: number): Types.PixelDataTypedArray {
    const image = cache.getImage(this.sliceImageIds[index]);
    if (!image?.voxelManager) throw new Error(`Labelmap slice ${index} is not in the cache.`);
    return image.voxelManager.getScalarData();
  }

  private get sliceSize(): number {
    return this.shape[1] * this.shape[2];
  }

  /** Write a whole mask (one byte per voxel, slices x rows x cols). */
  load(mask: Uint8Array): void {
    for (let k = 0; k < this.shape[0]; k++) {
      this.writeSlice(k, mask.subarray(k * this.sliceSize, (k + 1) * this.sliceSize), false);
    }
    this.changed();
  }

  /** The mask as painted now, one byte per voxel. */
  read(): Uint8Array {
    const mask = new Uint8Array(this.shape[0] * this.sliceSize);
    for (let k = 0; k < this.shape[0]; k++) mask.set(this.readSlice(k), k * this.sliceSize);
    return mask;
  }

  readSlice(index: number): Uint8Array {
    const data = this.sliceData(index);
    const copy = new Uint8Array(this.sliceSize);
    for (let i = 0; i < copy.length; i++) copy[i] = data[i] ? 1 : 0;
    return copy;
  }

  writeSlice(index: number, values: Uint8Array, notify = true): void {
    const data = this.sliceData(index);
    for (let i = 0; i < values.length; i++) data[i] = values[i] ? SEGMENT : 0;
    if (notify) this.changed([index]);
  }

  setVisible(visible: boolean): void {
    segmentation.config.visibility.setSegmentationRepresentationVisibility(
      VIEWPORT_ID,
      { segmentationId: this.id, type: LABELMAP },
      visible,
    );
  }

  private changed(slices?: number[]): void {
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.id, slices);
  }

  remove(): void {
    segmentation.removeSegmentationRepresentations(VIEWPORT_ID, { segmentationId: this.id });
    segmentation.removeSegmentation(this.id);
    for (const imageId of this.sliceImageIds) cache.removeImageLoadObject(imageId);
  }
}
