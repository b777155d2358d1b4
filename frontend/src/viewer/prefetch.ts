// Prefetching slice embeddings (issue 23): once a protocol is chosen, the viewer tells the
// server which slice the user is on, with its neighbours, so a worker embeds them before the
// box is drawn and the first prompt there costs a decoder pass. A hint, bounded on both sides:
// here one request in flight, sent after the user rests on a slice for `delay` ms, never the
// same set twice in a row; on the server at most 5 slices a request and a short expiry
// (annotations/prefetch.py). A failed prefetch is logged, never shown: prompting still works.
import { postJson, urls } from "./api";

/** The slice shown and `reach` slices either side, inside the series. */
export function neighbourSlices(slice: number, count: number, reach = 1): number[] {
  const slices: number[] = [];
  for (let k = slice - reach; k <= slice + reach; k++) {
    if (k >= 0 && k < count) slices.push(k);
  }
  return slices;
}

type Post = (url: string, body: unknown) => Promise<unknown>;

export class Prefetcher {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  private lastSent = "";
  private pending: { slice: number; version: number } | null = null;

  constructor(
    private readonly series: number,
    private readonly sliceCount: number,
    private readonly post: Post = postJson,
    private readonly delay = 250,
  ) {}

  /** The user is on `slice` with protocol `version` chosen (null: none, nothing to do). */
  want(slice: number, version: number | null): void {
    if (version === null) return;
    this.pending = { slice, version };
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.send();
    }, this.delay);
  }

  private async send(): Promise<void> {
    if (this.inFlight || this.pending === null) return;
    const { slice, version } = this.pending;
    this.pending = null;
    const slices = neighbourSlices(slice, this.sliceCount);
    const key = `${version}:${slices.join(",")}`;
    if (key === this.lastSent || !slices.length) return;
    this.inFlight = true;
    try {
      await this.post(urls.prefetch, { series: this.series, prompt_version: version, slices });
      this.lastSent = key;
    } catch (error) {
      console.warn("prefetching slice embeddings", error);
    } finally {
      this.inFlight = false;
      // The user moved on while this one was sent: send where they are now.
      if (this.pending !== null) void this.send();
    }
  }
}
