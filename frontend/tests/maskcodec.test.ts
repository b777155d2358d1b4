// The viewer's mask codec against vectors made by the backend's own encoder
// (tests/frontend/mask_vectors.py; tests/frontend/test_mask_vectors.py keeps them current).
import { describe, expect, it } from "vitest";
import type { Shape } from "../src/viewer/api";
import { decodeMask, encodeMask } from "../src/viewer/maskcodec";
import vectors from "./fixtures/mask_vectors.json";

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function voxels(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => Number(c));
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("mask codec against the backend's vectors", () => {
  it("has vectors to test", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(8);
  });

  for (const vector of vectors) {
    const shape = vector.shape as Shape;

    it(`decodes what the backend encoded: ${vector.name}`, async () => {
      const encoded = bytesOf(vector.encoded_base64);
      const mask = await decodeMask(encoded.buffer as ArrayBuffer, shape);
      expect(Array.from(mask).join("")).toBe(vector.voxels);
    });

    it(`encodes the payload the backend stores: ${vector.name}`, async () => {
      // The compressed bytes may differ between zlib builds; the packed bits may not.
      const ours = await inflate(bytesOf(await encodeMask(voxels(vector.voxels))));
      const theirs = await inflate(bytesOf(vector.encoded_base64));
      expect(Array.from(ours)).toEqual(Array.from(theirs));
    });
  }

  it("refuses a mask whose size does not fit the series", async () => {
    const box = vectors.find((v) => v.name.startsWith("a box"))!;
    const encoded = bytesOf(box.encoded_base64);
    await expect(decodeMask(encoded.buffer as ArrayBuffer, [2, 16, 16]))
      .rejects.toThrow("The mask has 768 bits; its shape needs 512.");
  });
});
