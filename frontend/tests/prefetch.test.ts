// The prefetch of slice embeddings: neighbours inside the series, one request after the user
// rests on a slice, never the same set twice in a row, one in flight, and a failure swallowed.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { neighbourSlices, Prefetcher } from "../src/viewer/prefetch";

describe("prefetch", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("names the slice shown and its neighbours inside the series", () => {
    expect(neighbourSlices(0, 10)).toEqual([0, 1]);
    expect(neighbourSlices(5, 10)).toEqual([4, 5, 6]);
    expect(neighbourSlices(9, 10)).toEqual([8, 9]);
    expect(neighbourSlices(0, 1)).toEqual([0]);
  });

  it("sends once the user rests on a slice, and not again for the same slices", async () => {
    const post = vi.fn().mockResolvedValue({});
    const prefetcher = new Prefetcher(7, 20, post, 250);
    prefetcher.want(3, 11);
    prefetcher.want(4, 11);
    prefetcher.want(5, 11);  // scrolling: only where the user stops counts
    await vi.advanceTimersByTimeAsync(300);
    expect(post).toHaveBeenCalledTimes(1);
    expect(post).toHaveBeenCalledWith("/api/v1/annotations/prefetch",
      { series: 7, prompt_version: 11, slices: [4, 5, 6] });
    prefetcher.want(5, 11);
    await vi.advanceTimersByTimeAsync(300);
    expect(post).toHaveBeenCalledTimes(1);
    prefetcher.want(5, 12);  // another protocol (another window): its own embeddings
    await vi.advanceTimersByTimeAsync(300);
    expect(post).toHaveBeenCalledTimes(2);
  });

  it("does nothing before a protocol is chosen", async () => {
    const post = vi.fn().mockResolvedValue({});
    new Prefetcher(7, 20, post, 250).want(3, null);
    await vi.advanceTimersByTimeAsync(300);
    expect(post).not.toHaveBeenCalled();
  });

  it("keeps one request in flight and then sends where the user is now", async () => {
    let release: () => void = () => undefined;
    const post = vi.fn().mockImplementationOnce(
      () => new Promise<void>((resolve) => { release = resolve; })).mockResolvedValue({});
    const prefetcher = new Prefetcher(7, 20, post, 250);
    prefetcher.want(3, 11);
    await vi.advanceTimersByTimeAsync(300);
    prefetcher.want(10, 11);
    await vi.advanceTimersByTimeAsync(300);
    expect(post).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(post).toHaveBeenCalledTimes(2);
    expect(post.mock.calls[1][1]).toMatchObject({ slices: [9, 10, 11] });
  });

  it("swallows a failed prefetch and tries that slice again later", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const post = vi.fn().mockRejectedValueOnce(new Error("503")).mockResolvedValue({});
    const prefetcher = new Prefetcher(7, 20, post, 250);
    prefetcher.want(3, 11);
    await vi.advanceTimersByTimeAsync(300);
    expect(warn).toHaveBeenCalled();
    prefetcher.want(3, 11);
    await vi.advanceTimersByTimeAsync(300);
    expect(post).toHaveBeenCalledTimes(2);
  });
});
