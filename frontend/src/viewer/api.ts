// The REST API as the viewer uses it: JSON with the session cookie and the CSRF token.

let csrfToken = "";

export function configureApi(token: string): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(describeError(status, body));
  }

  field(name: string): string | undefined {
    const value = (this.body as Record<string, unknown> | null)?.[name];
    return Array.isArray(value) ? String(value[0]) : typeof value === "string" ? value : undefined;
  }
}

function describeError(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const parts = Object.entries(body as Record<string, unknown>).map(([key, value]) => {
      const text = Array.isArray(value) ? value.join(" ") : String(value);
      return key === "detail" || key === "non_field_errors" ? text : `${key}: ${text}`;
    });
    if (parts.length) return parts.join(" ");
  }
  return `The server answered ${status}.`;
}

const RETRY = "Try again; if it keeps failing, reload the page.";

/** What a failed action tells the user: what failed, why (the server's own words when it
 * answered), and what to do next. ``next`` replaces the default advice to try again. */
export function describeFailure(action: string, error: unknown, next = RETRY): string {
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 403) {
      return `${action} failed: ${error.message} If your session ended, reload the page and sign in again.`;
    }
    return `${action} failed: ${error.message} ${next}`;
  }
  if (error instanceof TypeError) {
    // fetch rejects with a TypeError when no answer came at all.
    return `${action} failed: the server could not be reached (${error.message}). ` +
      "Check the connection, then try again.";
  }
  return `${action} failed: ${error instanceof Error ? error.message : String(error)} ${next}`;
}

async function request(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.method && init.method !== "GET") headers.set("X-CSRFToken", csrfToken);
  const response = await fetch(url, { credentials: "same-origin", ...init, headers });
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ detail: response.statusText }));
    throw new ApiError(response.status, body);
  }
  return response;
}

export async function getJson<T>(url: string): Promise<T> {
  return (await request(url)).json() as Promise<T>;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json() as Promise<T>;
}

export async function getBytes(url: string): Promise<{ bytes: ArrayBuffer; headers: Headers }> {
  const response = await request(url);
  return { bytes: await response.arrayBuffer(), headers: response.headers };
}

export type Shape = [number, number, number];

export interface SeriesLayout {
  series: number;
  study_uid: string;
  series_uid: string;
  modality: string;
  description: string;
  patient_name: string;
  /** The name as people read it ("Doe, Jane Q"), without DICOM's carets. */
  patient_display_name?: string;
  patient_id: string;
  study_date: string;
  shape: Shape;
  frames: { sop_uid: string; frame: number }[];
  problem: string;
}

export interface Interaction {
  tool: "box" | "click";
  count: number;
  /** The fewest boxes or clicks; ``count`` is then the most. */
  count_min?: number;
  /** One box around each separate part of the structure on each named slice. */
  boxes_per_part?: boolean;
  plane?: string;
  slice?: string;
  slice_tolerance_mm?: number;
  /** "required": the user also marks the structure's first and last slice (extent.ts). */
  extent?: "required";
  /** How far (mm) a marked end slice may lie from the structure's true end. */
  extent_tolerance_mm?: number;
  placement?: string;
  tolerance?: { value: number; unit: string };
}

export interface ResolvedEntry {
  key: string;
  name: string;
  score: number;
  matched: string;
  version_id: number;
  instructions: string;
  interaction: Interaction;
}

export interface EntrySummary {
  key: string;
  name: string;
  modality: string;
  active_version: { id: number; number: number } | null;
}

export interface PromptContent {
  key: string;
  name: string;
  modality: string;
  instructions: string;
  interaction: Interaction;
  image?: { window?: { level: number; width: number } };
  display?: { colour?: string; opacity?: number };
  engine?: { name: string; weights_sha256?: string };
}

export interface PromptVersion {
  id: number;
  key: string;
  number: number;
  state: string;
  content: PromptContent;
}

export interface Progress {
  done: number;
  total: number;
  fraction: number;
}

export interface Job {
  id: string;
  series: number;
  prompt_version: number;
  structure_key: string;
  engine: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: Progress;
  error: string;
  result: number | null;
  /** A correction job: the result it corrects and the version it started from. */
  corrects?: number | null;
  base_version?: number | null;
  /** A correction job: the version it stored (null before it succeeds, or when it changed
   * nothing). */
  mask_version?: number | null;
}

export interface MaskVersion {
  number: number;
  sha256: string;
  shape: Shape;
  voxel_count: number;
  volume_ml: number;
  created_by: string | null;
  created_at: string;
  note: string;
  /** The correction job that made this version, or null. */
  job?: string | null;
  /** A correction's provenance: ``slices`` [first, last] (0-based) re-segmented, ... */
  provenance?: { slices?: [number, number]; [key: string]: unknown } | null;
}

export interface Signature {
  printed_name: string;
  signer_username: string;
  signed_at: string;
  meaning: string;
  meaning_display: string;
  content_sha256: string;
  reason: string;
  manifestation: string;
}

export type ResultState = "ai_draft" | "edited" | "confirmed" | "rejected" | "superseded";

export interface Result {
  id: number;
  job: string;
  series: number;
  structure_key: string;
  prompt_version: number;
  prompt: { name: string; colour: string | null; opacity: number | null; number: number };
  state: ResultState;
  provenance: Record<string, unknown>;
  agreement: number | null;
  /** The prompt-agreement check runs after the result is stored: until it is recorded (its
   * flag may ask for a careful review) the result cannot be confirmed. */
  agreement_pending?: boolean;
  flags: { code: string; message: string }[];
  created_at: string;
  mask_versions: MaskVersion[];
  final_version: number | null;
  signature: Signature | null;
  /** Who may edit, confirm or reject the draft. */
  owner?: { id: number; name: string } | null;
  /** The series changed after the result was made on it: it cannot be edited or confirmed. */
  stale?: boolean;
  stale_reason?: string;
}

export const urls = {
  layout: (series: number) => `/api/v1/annotations/series/${series}/layout`,
  metadata: (l: SeriesLayout) =>
    `/api/v1/imaging/dicom-web/studies/${l.study_uid}/series/${l.series_uid}/metadata`,
  frame: (l: SeriesLayout, sop: string, frame: number) =>
    `/api/v1/imaging/dicom-web/studies/${l.study_uid}/series/${l.series_uid}` +
    `/instances/${sop}/frames/${frame}`,
  resolve: (text: string, modality: string) =>
    `/api/v1/prompts/resolve/?q=${encodeURIComponent(text)}&modality=${encodeURIComponent(modality)}`,
  entries: (modality: string) => `/api/v1/prompts/entries/?modality=${encodeURIComponent(modality)}`,
  version: (id: number) => `/api/v1/prompts/versions/${id}/`,
  jobs: "/api/v1/annotations/jobs",
  prefetch: "/api/v1/annotations/prefetch",
  preview: "/api/v1/annotations/preview",
  job: (id: string) => `/api/v1/annotations/jobs/${id}`,
  liveJobs: (series: number) => `/api/v1/annotations/jobs?series=${series}&status=queued,running`,
  cancel: (id: string) => `/api/v1/annotations/jobs/${id}/cancel`,
  results: (series: number) =>
    `/api/v1/annotations/results?series=${series}&state=ai_draft,edited,confirmed,rejected`,
  result: (id: number) => `/api/v1/annotations/results/${id}`,
  mask: (id: number, version: number) => `/api/v1/annotations/results/${id}/mask?version=${version}`,
  latestMask: (id: number) => `/api/v1/annotations/results/${id}/mask`,
  versions: (id: number) => `/api/v1/annotations/results/${id}/versions`,
  corrections: (id: number) => `/api/v1/annotations/results/${id}/corrections`,
  confirm: (id: number) => `/api/v1/annotations/results/${id}/confirm`,
  reject: (id: number) => `/api/v1/annotations/results/${id}/reject`,
  record: (id: number) => `/annotations/results/${id}/`,
  comparison: (id: number, version: number) =>
    `/api/v1/exports/results/${id}/comparison?version=${version}`,
};

/** A result's mask against the reference mask of its series and structure. */
export interface Comparison {
  reference: number;
  result: number;
  mask_version: number;
  dice: number;
  result_voxels: number;
  reference_voxels: number;
  reference_source: string;
}
