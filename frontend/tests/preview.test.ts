// The live preview: one request in flight (two when asked) and the newest box sent next, answers decoded into
// the crop's pixels, answers from before a clear dropped, and a 503 turning previews off.
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/viewer/api";
import { decodeCrop, LivePreview, type PreviewAnswer } from "../src/viewer/preview";

/** What the server sends for a crop (model/preview.py): packbits, zlib, base64. */
async function answerFor(rows: number, cols: number, on: number[], box = [0, 0, 9, 9]
): Promise<PreviewAnswer> {
  const packed = new Uint8Array(Math.ceil((rows * cols) / 8));
  for (const i of on) packed[i >> 3] |= 0x80 >> (i & 7);
  const stream = new Blob([packed as BlobPart]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  const compressed = new Uint8Array(await new Response(stream).arrayBuffer());
  const bits = btoa(String.fromCharCode(...compressed));
  return {
    mask: { origin: [3, 4], shape: [rows, cols], bits, pixels: on.length },
    iou: 0.9, slice: 2, box: box as PreviewAnswer["box"], embedding_cached: true,
    worker_ms: { load: 0, engine: 50 }, round_trip_ms: 60,
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("live preview", () => {
  it("decodes the crop's bits", async () => {
    const pixels = await decodeCrop((await answerFor(3, 5, [0, 6, 14])).mask);
    expect(Array.from(pixels)).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect((await decodeCrop({ origin: [0, 0], shape: [0, 0], bits: "", pixels: 0 })).length)
      .toBe(0);
  });

  it("keeps two requests in flight and sends the newest box when one answers", async () => {
    const replies = [deferred<PreviewAnswer>(), deferred<PreviewAnswer>(),
      deferred<PreviewAnswer>()];
    const post = vi.fn().mockImplementationOnce(() => replies[0].promise)
      .mockImplementationOnce(() => replies[1].promise)
      .mockImplementationOnce(() => replies[2].promise);
    const show = vi.fn();
    const live = new LivePreview(7, show, () => undefined, post, 2);
    live.drag(2, [10, 10, 40, 40], 11);
    live.drag(2, [10, 10, 41, 41], 11);
    live.drag(2, [10, 10, 42, 42], 11);  // dropped: a newer box follows
    live.drag(2, [10, 10, 43, 43], 11);
    live.drag(2, [10, 10, 11, 11], 11);  // too small for the server: not sent
    expect(post).toHaveBeenCalledTimes(2);
    // The second answers first: drawn; the first, older, answers after it: not drawn.
    replies[1].resolve(await answerFor(2, 2, [0]));
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(3));
    expect(post.mock.calls[2]).toEqual(["/api/v1/annotations/preview",
      { series: 7, prompt_version: 11, slice: 2, box: [10, 10, 43, 43] }]);
    expect(show).toHaveBeenCalledTimes(1);
    expect(show.mock.calls[0][0]).toMatchObject({ slice: 2, box: [10, 10, 41, 41],
      origin: [3, 4], shape: [2, 2] });
    replies[0].resolve(await answerFor(2, 2, [3]));
    await flush();
    await flush();
    expect(show).toHaveBeenCalledTimes(1);
    replies[2].resolve(await answerFor(2, 2, [1, 2]));
    await vi.waitFor(() => expect(live.stats.drawn).toBe(2));
    expect(Array.from(live.shown!.pixels)).toEqual([0, 1, 1, 0]);
    expect(live.shown!.box).toEqual([10, 10, 43, 43]);
  });

  it("by default keeps one request in flight", async () => {
    const reply = deferred<PreviewAnswer>();
    const post = vi.fn().mockImplementationOnce(() => reply.promise)
      .mockResolvedValue(await answerFor(1, 1, [0]));
    const live = new LivePreview(7, vi.fn(), () => undefined, post);
    live.drag(2, [10, 10, 40, 40], 11);
    live.drag(2, [10, 10, 41, 41], 11);
    live.drag(2, [10, 10, 42, 42], 11);
    expect(post).toHaveBeenCalledTimes(1);
    reply.resolve(await answerFor(2, 2, [0]));
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(2));
    expect(post.mock.calls[1][1]).toMatchObject({ box: [10, 10, 42, 42] });
  });

  it("drops an answer that comes after the prompt was cleared", async () => {
    const reply = deferred<PreviewAnswer>();
    const show = vi.fn();
    const live = new LivePreview(7, show, () => undefined, vi.fn(() => reply.promise));
    live.drag(2, [10, 10, 40, 40], 11);
    live.clear();
    reply.resolve(await answerFor(2, 2, [0]));
    await flush();
    await flush();
    expect(show).not.toHaveBeenCalled();
    expect(live.shown).toBeNull();
  });

  it("turns itself off, saying why, when no worker can preview", async () => {
    const post = vi.fn().mockRejectedValue(new ApiError(503, { detail: "No worker running x." }));
    const say = vi.fn();
    const live = new LivePreview(7, vi.fn(), say, post);
    live.drag(2, [10, 10, 40, 40], 11);
    await vi.waitFor(() => expect(say).toHaveBeenCalledWith(
      "Live preview is off: No worker running x."));
    live.drag(2, [10, 10, 44, 44], 11);
    await flush();
    expect(post).toHaveBeenCalledTimes(1);
  });

  it("stays on when a worker is only slow to answer (504)", async () => {
    const post = vi.fn().mockRejectedValueOnce(new ApiError(504, { detail: "still reading" }))
      .mockResolvedValue(await answerFor(1, 1, [0]));
    const say = vi.fn();
    const live = new LivePreview(7, vi.fn(), say, post);
    live.drag(2, [10, 10, 40, 40], 11);
    await flush();
    await flush();
    live.drag(2, [10, 10, 44, 44], 11);
    await vi.waitFor(() => expect(live.stats.drawn).toBe(1));
    expect(say).not.toHaveBeenCalled();
  });

  it("sends nothing before a protocol is chosen", () => {
    const post = vi.fn();
    new LivePreview(7, vi.fn(), vi.fn(), post).drag(2, [10, 10, 40, 40], null);
    expect(post).not.toHaveBeenCalled();
  });
});
