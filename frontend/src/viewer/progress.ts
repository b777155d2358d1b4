// A running job: a progress bar of slices done, polled from the jobs API, and Cancel.
import { describeFailure, getJson, postJson, urls, type Job } from "./api";

const POLL_MS = 400;
/** A job's first seconds are polled faster: a cached 2D job is done in about 0.2 s, and its
 * draft should not wait up to a whole POLL_MS to be seen. */
const FIRST_POLL_MS = 100;
const FAST_POLL_FOR_MS = 3000;

/** The delay before the next poll of a job followed since ``since`` (performance.now()). */
export function pollDelay(since: number, now: number): number {
  return now - since < FAST_POLL_FOR_MS ? FIRST_POLL_MS : POLL_MS;
}

const MESSAGES: Record<Job["status"], (job: Job) => string> = {
  queued: () => "Queued: waiting for a worker…",
  running: ({ corrects, progress: { done, total } }) =>
    corrects ? `Correcting: ${done} slices looked at…`
      : total ? `Segmenting: ${done} of ${total} slices done` : "Segmenting: starting…",
  succeeded: ({ corrects, progress: { total } }) =>
    corrects ? "Done: the correction was stored." : `Done: ${total} slices segmented.`,
  failed: (job) => `Failed: ${job.error || "the worker reported an error"}`,
  cancelled: () => "Cancelled.",
};

export function isLive(job: Job | null): boolean {
  return job !== null && (job.status === "queued" || job.status === "running");
}

export class JobProgress {
  private job: Job | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every job state shown, so an answer to an older request is recognised. */
  private generation = 0;
  /** A problem to keep showing with the job's state (a refused cancel) while the job runs. */
  private note = "";
  /** When the job shown was first followed (performance.now()). */
  private followedSince = 0;

  constructor(
    private readonly box: HTMLElement,
    private readonly bar: HTMLProgressElement,
    private readonly status: HTMLElement,
    private readonly cancelButton: HTMLButtonElement,
    private readonly onFinished: (job: Job) => void,
  ) {
    cancelButton.addEventListener("click", () => void this.cancel());
  }

  get running(): boolean {
    return isLive(this.job);
  }

  /** Show ``job`` and poll it while it is live. A different job starts from a clean panel:
   * nothing of the previous job (its note, a disabled Cancel) carries over. */
  follow(job: Job): void {
    clearTimeout(this.timer);
    if (this.job?.id !== job.id || !isLive(job)) this.note = "";
    if (this.job?.id !== job.id) {
      this.cancelButton.disabled = false;
      this.followedSince = performance.now();
    }
    this.generation++;
    this.job = job;
    this.box.hidden = false;
    this.show(job);
    if (this.running) {
      this.timer = setTimeout(() => void this.poll(),
        pollDelay(this.followedSince, performance.now()));
    } else this.onFinished(job);
  }

  /** One poll. Its answer is dropped when anything else was shown meanwhile (a cancel's
   * answer, or a new job): a late answer about the previous job once put that job's
   * "Cancelled." over a new job that was running, and stopped the new job's polling. */
  private async poll(): Promise<void> {
    const job = this.job;
    if (!job) return;
    const asked = this.generation;
    let latest: Job;
    try {
      latest = await getJson<Job>(urls.job(job.id));
    } catch (error) {
      if (asked !== this.generation) return;
      this.status.textContent = describeFailure("Checking the job's progress", error,
        "Retrying in a few seconds; the job goes on on the server.");
      this.status.className = "fineprint error";
      this.timer = setTimeout(() => void this.poll(), POLL_MS * 5);
      return;
    }
    if (asked === this.generation) this.follow(latest);
  }

  private show(job: Job): void {
    this.bar.value = job.status === "succeeded" ? 1 : job.progress.fraction;
    this.box.dataset.status = job.status;
    this.cancelButton.hidden = !this.running;
    this.status.textContent = [MESSAGES[job.status](job), this.note].filter(Boolean).join(" ");
    this.status.className = this.note || job.status === "failed" ? "fineprint error" : "fineprint";
  }

  async cancel(): Promise<void> {
    const job = this.job;
    if (!job || !this.running) return;
    this.cancelButton.disabled = true;
    try {
      const answer = await postJson<Job>(urls.cancel(job.id), { reason: "cancelled in viewer" });
      if (this.job?.id === job.id) this.follow(answer);
    } catch (error) {
      if (this.job?.id !== job.id) return;
      this.note = describeFailure("Cancelling", error,
        "The job may still be running: press Cancel again.");
      this.show(this.job);
    } finally {
      if (this.job?.id === job.id) this.cancelButton.disabled = false;
    }
  }
}
