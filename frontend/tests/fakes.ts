// Stand-ins for what the components under test touch: a few DOM element properties, and the
// server behind fetch (answers queued per request, each resolved when the test says so).
import { vi } from "vitest";
import type { Job } from "../src/viewer/api";

export interface FakeElement {
  hidden: boolean;
  disabled: boolean;
  value: number;
  textContent: string;
  className: string;
  dataset: Record<string, string>;
  listeners: Record<string, (() => void)[]>;
  addEventListener(type: string, listener: () => void): void;
  fire(type: string): void;
}

export function fakeElement<T>(): FakeElement & T {
  const element: FakeElement = {
    hidden: true, disabled: false, value: 0, textContent: "", className: "", dataset: {},
    listeners: {},
    addEventListener(type, listener) {
      (this.listeners[type] ??= []).push(listener);
    },
    fire(type) {
      for (const listener of this.listeners[type] ?? []) listener();
    },
  };
  return element as FakeElement & T;
}

interface Pending {
  url: string;
  method: string;
  body: unknown;
  answer: (status: number, body: unknown) => Promise<void>;
}

/** Replaces fetch; ``requests`` holds each request until the test answers it. */
export function fakeServer() {
  const requests: Pending[] = [];
  vi.stubGlobal("fetch", (url: string, init: RequestInit = {}) =>
    new Promise<Response>((resolve) => {
      requests.push({
        url,
        method: init.method ?? "GET",
        body: init.body ? JSON.parse(String(init.body)) : undefined,
        answer: async (status, body) => {
          resolve(new Response(JSON.stringify(body), {
            status, headers: { "Content-Type": "application/json" },
          }));
          await flush();
        },
      });
    }));
  return {
    requests,
    /** The oldest request not answered yet for ``url``. */
    take(url: string): Pending {
      const index = requests.findIndex((r) => r.url === url);
      if (index < 0) throw new Error(`no request for ${url}; got ${requests.map((r) => r.url)}`);
      return requests.splice(index, 1)[0];
    },
  };
}

/** Let resolved promises run their continuations. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export function job(id: string, status: Job["status"], done = 0, total = 3): Job {
  return {
    id, series: 1, prompt_version: 1, structure_key: "liver-ct", engine: "litemedsam", status,
    progress: { done, total, fraction: total ? done / total : 0 }, error: "", result: null,
  };
}
