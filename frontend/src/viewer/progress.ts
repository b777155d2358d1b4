// A running job: a progress bar of slices done, polled from the jobs API, and Cancel.
import { getJson, postJson, urls, type Job } from "./api";

const POLL_MS = 400;

export class JobProgress {
  private job: Job | null = null;
  private timer = 0;

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
    return this.job !== null && (this.job.status === "queued" || this.job.status === "running");
  }

  follow(job: Job): void {
    window.clearTimeout(this.timer);
    this.job = job;
    this.box.hidden = false;
    this.show(job);
    if (this.running) this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
    else this.onFinished(job);
  }

  private async poll(): Promise<void> {
    if (!this.job) return;
    try {
      this.follow(await getJson<Job>(urls.job(this.job.id)));
    } catch (error) {
      this.status.textContent = `Lost contact with the server (${error}); retrying…`;
      this.timer = window.setTimeout(() => void this.poll(), POLL_MS * 5);
    }
  }

  private show(job: Job): void {
    const { done, total, fraction } = job.progress;
    this.bar.value = job.status === "succeeded" ? 1 : fraction;
    this.box.dataset.status = job.status;
    this.cancelButton.hidden = !this.running;
    const messages: Record<Job["status"], string> = {
      queued: "Queued: waiting for a worker…",
      running: total ? `Segmenting: ${done} of ${total} slices done` : "Segmenting: starting…",
      succeeded: `Done: ${total} slices segmented.`,
      failed: `Failed: ${job.error || "the worker reported an error"}`,
      cancelled: "Cancelled.",
    };
    this.status.textContent = messages[job.status];
  }

  private async cancel(): Promise<void> {
    if (!this.job || !this.running) return;
    this.cancelButton.disabled = true;
    try {
      this.follow(await postJson<Job>(urls.cancel(this.job.id), { reason: "cancelled in viewer" }));
    } finally {
      this.cancelButton.disabled = false;
    }
  }
}
