// The job progress panel: what it says while a job runs, is cancelled or fails, and that an
// answer about a previous job never shows over the job that runs now.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { urls, type Job } from "../src/viewer/api";
import { JobProgress, pollDelay } from "../src/viewer/progress";
import { fakeElement, fakeServer, flush, job } from "./fakes";

function panel() {
  const box = fakeElement<HTMLElement>();
  const bar = fakeElement<HTMLProgressElement>();
  const status = fakeElement<HTMLElement>();
  const cancel = fakeElement<HTMLButtonElement>();
  const finished: Job[] = [];
  const progress = new JobProgress(box, bar, status, cancel, (j) => finished.push(j));
  return { progress, box, bar, status, cancel, finished };
}

async function tick(ms: number) {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

describe("JobProgress", () => {
  let server: ReturnType<typeof fakeServer>;
  beforeEach(() => {
    vi.useFakeTimers();
    server = fakeServer();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("says a correction job corrects, not segments", async () => {
    const { progress, status } = panel();
    progress.follow({ ...job("c", "running", 2, 3), corrects: 7 });
    expect(status.textContent).toBe("Correcting: 2 slices looked at…");
    await tick(400);
    await server.take(urls.job("c")).answer(200, { ...job("c", "succeeded", 4, 4), corrects: 7 });
    expect(status.textContent).toBe("Done: the correction was stored.");
  });

  it("shows the slices done while the job runs and the total when it is done", async () => {
    const { progress, status, bar, cancel, finished } = panel();
    progress.follow(job("a", "queued"));
    expect(status.textContent).toBe("Queued: waiting for a worker…");
    expect(cancel.hidden).toBe(false);
    await tick(400);
    await server.take(urls.job("a")).answer(200, job("a", "running", 1, 3));
    expect(status.textContent).toBe("Segmenting: 1 of 3 slices done");
    expect(bar.value).toBeCloseTo(1 / 3);
    await tick(400);
    await server.take(urls.job("a")).answer(200, job("a", "succeeded", 3, 3));
    expect(status.textContent).toBe("Done: 3 slices segmented.");
    expect(bar.value).toBe(1);
    expect(cancel.hidden).toBe(true);
    expect(finished.map((j) => j.status)).toEqual(["succeeded"]);
    await tick(5000);
    expect(server.requests).toEqual([]);
  });

  it("does not show the previous job's late 'Cancelled.' over a new job, and keeps polling it",
    async () => {
      const { progress, status, cancel, finished } = panel();
      progress.follow(job("old", "running", 1, 3));
      await tick(400);
      const latePoll = server.take(urls.job("old"));
      cancel.fire("click");
      await server.take(urls.cancel("old")).answer(200, job("old", "cancelled", 1, 3));
      expect(status.textContent).toBe("Cancelled.");
      expect(finished.map((j) => j.id)).toEqual(["old"]);

      progress.follow(job("new", "queued"));
      await latePoll.answer(200, job("old", "cancelled", 1, 3));
      expect(status.textContent).toBe("Queued: waiting for a worker…");
      expect(progress.running).toBe(true);
      expect(cancel.hidden).toBe(false);
      await tick(400);
      await server.take(urls.job("new")).answer(200, job("new", "running", 2, 3));
      expect(status.textContent).toBe("Segmenting: 2 of 3 slices done");
      expect(finished.map((j) => j.id)).toEqual(["old"]);
    });

  it("drops a poll answered after the cancel: the job stays cancelled", async () => {
    const { progress, status, cancel } = panel();
    progress.follow(job("a", "running", 1, 3));
    await tick(400);
    const latePoll = server.take(urls.job("a"));
    cancel.fire("click");
    await server.take(urls.cancel("a")).answer(200, job("a", "cancelled", 1, 3));
    await latePoll.answer(200, job("a", "running", 1, 3));
    expect(status.textContent).toBe("Cancelled.");
    expect(cancel.hidden).toBe(true);
    await tick(5000);
    expect(server.requests).toEqual([]);
  });

  it("tells the user when the server refuses the cancel, with its reason and what to do",
    async () => {
      const { progress, status, cancel } = panel();
      progress.follow(job("a", "running", 1, 3));
      cancel.fire("click");
      expect(cancel.disabled).toBe(true);
      await server.take(urls.cancel("a")).answer(409, { detail: "The job is finishing." });
      expect(status.textContent).toBe("Segmenting: 1 of 3 slices done Cancelling failed: " +
        "The job is finishing. The job may still be running: press Cancel again.");
      expect(status.className).toContain("error");
      expect(cancel.disabled).toBe(false);
      // The refusal stays visible while the job runs on, and goes when it ends.
      await tick(400);
      await server.take(urls.job("a")).answer(200, job("a", "running", 2, 3));
      expect(status.textContent).toContain("Cancelling failed: The job is finishing.");
      await tick(400);
      await server.take(urls.job("a")).answer(200, job("a", "succeeded", 3, 3));
      expect(status.textContent).toBe("Done: 3 slices segmented.");
    });

  it("says it lost contact when a poll fails, and retries", async () => {
    const { progress, status } = panel();
    progress.follow(job("a", "running", 1, 3));
    await tick(400);
    await server.take(urls.job("a")).answer(502, { detail: "Bad Gateway" });
    expect(status.textContent).toBe("Checking the job's progress failed: Bad Gateway " +
      "Retrying in a few seconds; the job goes on on the server.");
    await tick(2000);
    await server.take(urls.job("a")).answer(200, job("a", "running", 2, 3));
    expect(status.textContent).toBe("Segmenting: 2 of 3 slices done");
    expect(status.className).not.toContain("error");
  });

  it("shows the worker's error when the job fails", () => {
    const { progress, status, finished } = panel();
    progress.follow({ ...job("a", "failed"), error: "The engine is not available." });
    expect(status.textContent).toBe("Failed: The engine is not available.");
    expect(finished).toHaveLength(1);
  });
});

describe("polling", () => {
  it("polls a job fast in its first seconds, then every 400 ms", () => {
    expect(pollDelay(1000, 1050)).toBe(100);
    expect(pollDelay(1000, 3900)).toBe(100);
    expect(pollDelay(1000, 4100)).toBe(400);
  });
});
