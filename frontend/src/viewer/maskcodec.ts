// Masks on the wire: np.packbits (most significant bit first, C order (slices, rows, cols)),
// zlib-compressed; edits go back in the same encoding, base64-encoded.
import type { Shape } from "./api";

async function throughStream(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const output = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

export function voxelCount(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

/** One byte per voxel (0 or 1) from the downloaded bytes. */
export async function decodeMask(data: ArrayBuffer, shape: Shape): Promise<Uint8Array> {
  const packed = await throughStream(new Uint8Array(data), new DecompressionStream("deflate"));
  const count = voxelCount(shape);
  if (packed.length !== Math.ceil(count / 8)) {
    throw new Error(`The mask has ${packed.length * 8} bits; its shape needs ${count}.`);
  }
  const mask = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    mask[i] = (packed[i >> 3] >> (7 - (i & 7))) & 1;
  }
  return mask;
}

/** The upload form of a mask: packed, compressed, base64. */
export async function encodeMask(mask: Uint8Array): Promise<string> {
  const packed = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) packed[i >> 3] |= 0x80 >> (i & 7);
  }
  const compressed = await throughStream(packed, new CompressionStream("deflate"));
  let binary = "";
  for (let i = 0; i < compressed.length; i += 0x8000) {
    binary += String.fromCharCode(...compressed.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
