// The live preview (issue 23): while a box is dragged, the mask of the box as it is now, from
// a worker that holds the slice's embedding (POST /api/v1/annotations/preview: a decoder
// pass, no job). One request in flight by default; boxes dragged meanwhile are dropped but the
// newest, sent when it answers, and an answer older than the one drawn is never drawn. Two in
// flight (``inFlight``) overlap the web tier's share of one with the worker's decoder pass of
// the other; on one 2-core machine running browser, web tier and worker that gave the same
// previews per second (5.9 against 6.2) at twice the round trip (280 against 134 ms,
// bench/viewer_bench.py), so one it is. The preview is never the record: it is drawn on the prompt layer, hatched and
// labelled "Preview", until the job started with Segment brings the stored draft, which alone
// can be confirmed. No worker that can preview (503) turns previews off for the page and says
// so once; segmenting still works. A worker still loading the series (504) does not: the next
// move asks again.
import { ApiError, postJson, urls } from "./api";

export type Box = [number, number, number, number];

export interface PreviewAnswer {
  mask: { origin: [number, number]; shape: [number, number]; bits: string; pixels: number };
  iou: number;
  slice: number;
  box: Box;
  embedding_cached: boolean;
  worker_ms: { load: number; engine: number };
  round_trip_ms: number;
}

/** A preview as the layer draws it: crop of the slice, one byte per pixel. */
export interface ShownPreview {
  slice: number;
  box: Box;
  origin: [number, number];
  shape: [number, number];
  pixels: Uint8Array;
}

type Post = (url: string, body: unknown) => Promise<PreviewAnswer>;

/** The crop's pixels (0/1, row-major) from the packed, zlib-compressed, base64 bits. */
export async function decodeCrop(mask: PreviewAnswer["mask"]): Promise<Uint8Array> {
  const [rows, cols] = mask.shape;
  const count = rows * cols;
  if (!count) return new Uint8Array(0);
  const compressed = Uint8Array.from(atob(mask.bits), (c) => c.charCodeAt(0));
  const stream = new Blob([compressed as BlobPart]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  const packed = new Uint8Array(await new Response(stream).arrayBuffer());
  if (packed.length !== Math.ceil(count / 8)) {
    throw new Error(`The preview has ${packed.length * 8} bits; its crop needs ${count}.`);
  }
  const pixels = new Uint8Array(count);
  for (let i = 0; i < count; i++) pixels[i] = (packed[i >> 3] >> (7 - (i & 7))) & 1;
  return pixels;
}

/** Requests in flight at once (see above). */
export const IN_FLIGHT = 1;

export class LivePreview {
  private inFlight = 0;
  /** Sequence numbers: each request's, and that of the answer drawn last. */
  private sent = 0;
  private drawnSeq = 0;
  private wanted: { slice: number; box: Box; version: number } | null = null;
  /** Bumped by clear(): answers to requests sent before it are dropped. */
  private generation = 0;
  private off = false;
  shown: ShownPreview | null = null;
  /** For the browser test and bench/viewer_bench.py: previews drawn and their round trips. */
  readonly stats = {
    sent: 0, drawn: 0, latencies: [] as number[], lastDrawnAt: 0,
    /** Of each answer: the web tier's round trip to the worker, and the worker's engine. */
    workerRoundTrips: [] as number[], engineMs: [] as number[],
  };

  constructor(
    private readonly series: number,
    private readonly show: (preview: ShownPreview | null) => void,
    private readonly say: (text: string) => void,
    private readonly post: Post = postJson,
    private readonly inFlightMax = IN_FLIGHT,
  ) {}

  /** The box being dragged on ``slice`` with protocol ``version`` (null: no protocol). */
  drag(slice: number, box: Box, version: number | null): void {
    if (this.off || version === null) return;
    const [x0, y0, x1, y1] = box;
    if (x1 - x0 < 2 || y1 - y0 < 2) return; // what the server refuses as too small
    this.wanted = { slice, box, version };
    void this.send();
  }

  /** The prompt was cleared, or the draft arrived: no preview, and none still coming. */
  clear(): void {
    this.generation++;
    this.wanted = null;
    if (this.shown) {
      this.shown = null;
      this.show(null);
    }
  }

  private async send(): Promise<void> {
    if (this.inFlight >= this.inFlightMax || this.wanted === null) return;
    const { slice, box, version } = this.wanted;
    this.wanted = null;
    this.inFlight++;
    const generation = this.generation;
    const seq = ++this.sent;
    const started = performance.now();
    this.stats.sent++;
    try {
      const answer = await this.post(urls.preview, {
        series: this.series, prompt_version: version, slice, box,
      });
      this.stats.workerRoundTrips.push(answer.round_trip_ms);
      this.stats.engineMs.push(answer.worker_ms?.engine ?? 0);
      const pixels = await decodeCrop(answer.mask);
      if (generation === this.generation && seq > this.drawnSeq) {
        this.drawnSeq = seq;
        this.shown = { slice, box, origin: answer.mask.origin, shape: answer.mask.shape, pixels };
        this.show(this.shown);
        this.stats.drawn++;
        this.stats.lastDrawnAt = performance.now();
        this.stats.latencies.push(this.stats.lastDrawnAt - started);
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 503) {
        this.off = true;
        this.say(`Live preview is off: ${error.message}`);
      } else {
        console.warn("live preview", error);
      }
    } finally {
      this.inFlight--;
      if (this.wanted !== null) void this.send();
    }
  }
}
