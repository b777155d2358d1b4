// The result panel: which results the series has, and for the open one its state (a draft is
// marked as such), flags, engine, model and prompt version, mask versions and signature.
import { ApiError, getJson, urls, type Comparison, type MaskVersion, type Result } from "./api";

const STATE_LABEL: Record<Result["state"], string> = {
  ai_draft: "AI draft",
  edited: "Edited draft",
  confirmed: "Confirmed",
  rejected: "Rejected",
  superseded: "Superseded",
};

export function isDraft(result: Result): boolean {
  return result.state === "ai_draft" || result.state === "edited";
}

/** Who looks at the open result, and which of its mask versions is on screen. */
export interface Viewing {
  /** The user's role lets them segment, edit and sign (annotators). */
  canEdit: boolean;
  userId: number;
  shownVersion: number;
}

/** What the result panel offers for ``result``, from its state and who looks at it. */
export interface PanelState {
  /** The state as the heading shows it; a draft says so first. */
  heading: string;
  draft: boolean;
  /** The STALE banner, or null when there is none. */
  staleBanner: string | null;
  /** The user owns the draft, or it has no owner recorded: only the owner edits and signs. */
  owns: boolean;
  latestVersion: number;
  /** Brush and eraser: only the latest version of a fresh draft, by its owner. */
  editable: boolean;
  /** Confirm, reject and re-prompt are shown. */
  decision: boolean;
  /** Why Confirm is disabled, or null when it is enabled. */
  confirmBlocked: string | null;
}

export function panelState(result: Result, viewing: Viewing): PanelState {
  const draft = isDraft(result);
  const owns = !result.owner || result.owner.id === viewing.userId;
  const latestVersion = result.mask_versions.at(-1)?.number ?? 0;
  const stale = draft && !!result.stale;
  return {
    heading: draft ? `DRAFT · ${STATE_LABEL[result.state]}` : STATE_LABEL[result.state],
    draft,
    staleBanner: stale ? `STALE — ${result.stale_reason ?? "the series changed"}` : null,
    owns,
    latestVersion,
    editable: viewing.canEdit && draft && !result.stale && owns &&
      viewing.shownVersion === latestVersion,
    decision: viewing.canEdit && draft && owns,
    confirmBlocked: result.stale ? (result.stale_reason ?? "the series changed")
      : result.agreement_pending ? AGREEMENT_PENDING : null,
  };
}

export const AGREEMENT_PENDING = "The prompt-agreement check is still running; Confirm is " +
  "enabled once its outcome is shown.";

/** The result after a poll while its agreement check was pending: the server's agreement,
 * flags and pending state, the rest (versions opened or saved meanwhile) as shown. */
export function withAgreement(shown: Result, polled: Result): Result {
  return { ...shown, agreement: polled.agreement, flags: polled.flags,
           agreement_pending: polled.agreement_pending };
}

/** The result once ``saved`` is stored: an edited draft whose latest version is ``saved``. */
export function withSavedVersion(result: Result, saved: MaskVersion): Result {
  return { ...result, state: "edited", mask_versions: [...result.mask_versions, saved] };
}

/** Why the shown version cannot be signed now, or null when it can. */
export function signingBlocked(unsavedEdit: boolean, shownVersion: number,
                               latestVersion: number): string | null {
  if (unsavedEdit) return "Save or undo your edit before signing: a signature covers a saved version.";
  if (shownVersion !== latestVersion) {
    return `You are looking at version ${shownVersion}; open version ${latestVersion} to sign it.`;
  }
  return null;
}

/** A version an AI correction made (a correction job stored it). */
export function isCorrection(version: MaskVersion): boolean {
  return !!version.job;
}

/** What the version list says after ``v<n>``: the AI original, an AI correction, or nothing
 * (a brush edit: its note and author say so). */
export function versionLabel(version: MaskVersion): string {
  if (version.number === 1) return " (AI original)";
  return isCorrection(version) ? " (AI correction)" : "";
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K, text = "", className = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function renderResultList(
  list: HTMLElement, results: Result[], openId: number | null, onOpen: (id: number) => void,
): void {
  if (!results.length) {
    list.replaceChildren(element("li", "No results on this series yet.", "fineprint"));
    return;
  }
  list.replaceChildren(
    ...results.map((result) => {
      const item = element("li");
      const button = element("button", "", result.id === openId ? "result-link open" : "result-link");
      button.type = "button";
      button.dataset.result = String(result.id);
      const swatch = element("span", "", "swatch");
      swatch.style.background = result.prompt.colour ?? "#ffd400";
      button.append(swatch, `${result.prompt.name} `, element("span", STATE_LABEL[result.state],
        `state state-${result.state}`));
      button.addEventListener("click", () => onOpen(result.id));
      item.appendChild(button);
      return item;
    }),
  );
}

export function renderResult(result: Result, view: PanelState, shownVersion: number,
                             onShowVersion: (n: number) => void): void {
  const panel = document.getElementById("result")!;
  panel.hidden = false;
  panel.dataset.state = result.state;
  panel.querySelector<HTMLElement>(".swatch")!.style.background = result.prompt.colour ?? "";
  panel.querySelector(".name")!.textContent = result.prompt.name;
  const state = panel.querySelector<HTMLElement>("h3 .state")!;
  state.textContent = view.heading;
  state.className = `state state-${result.state}`;
  document.getElementById("draft-stamp")!.hidden = !view.draft;
  const stale = document.getElementById("result-stale")!;
  stale.hidden = view.staleBanner === null;
  stale.textContent = view.staleBanner ?? "";

  const flags = document.getElementById("result-flags")!;
  flags.replaceChildren(...result.flags.map((f) => element("p", `⚑ ${f.message || f.code}`, "flag")));
  if (view.draft && result.owner) {
    flags.appendChild(element("p", `Draft of ${result.owner.name}: only they edit, confirm or reject it.`,
      "fineprint draft-owner"));
  }
  if (result.agreement_pending) {
    flags.appendChild(element("p", "Checking the prompt agreement…", "fineprint agreement-pending"));
  } else if (result.agreement !== null && result.agreement !== undefined) {
    flags.appendChild(element("p", `Robustness agreement (Dice): ${result.agreement.toFixed(3)}`,
      "fineprint"));
  }

  const p = result.provenance as Record<string, string | number | undefined>;
  const rows: [string, string][] = [
    ["Engine", `${p.engine ?? "?"} ${p.engine_version ?? ""}`.trim()],
    ["Model weights", String(p.weights_sha256 ?? "").slice(0, 12)],
    ["Prompt", `${result.structure_key} v${result.prompt.number}`],
    ["Code", String(p.code_version ?? "").slice(0, 12)],
  ];
  document.getElementById("result-provenance")!.replaceChildren(
    ...rows.map(([k, v]) => {
      const row = element("tr");
      row.append(element("th", k), element("td", v));
      return row;
    }),
  );

  const versions = document.getElementById("result-versions")!;
  versions.replaceChildren(
    ...result.mask_versions.map((v) => {
      const item = element("li", "", [v.number === shownVersion ? "shown" : "",
        isCorrection(v) ? "correction" : ""].filter(Boolean).join(" "));
      item.dataset.version = String(v.number);
      const link = element("a", `v${v.number}${versionLabel(v)}`);
      link.href = "#";
      link.addEventListener("click", (event) => {
        event.preventDefault();
        onShowVersion(v.number);
      });
      item.append(link, ` ${v.volume_ml.toFixed(1)} mL · ${v.created_by ?? "model"}`);
      if (v.note) item.append(element("span", ` — ${v.note}`, "fineprint"));
      return item;
    }),
  );

  const signature = document.getElementById("result-signature")!;
  signature.replaceChildren();
  if (result.signature) {
    const s = result.signature;
    signature.appendChild(element("p",
      `Signed by ${s.printed_name} on ${s.signed_at.replace("T", " ").slice(0, 19)} UTC — ` +
      `meaning: ${s.meaning_display}${s.reason ? `; reason: ${s.reason}` : ""}`, "signature"));
  }
  (document.getElementById("result-record") as HTMLAnchorElement).href = urls.record(result.id);
}

/** Shows the Dice of the shown mask version against the series' reference mask of the same
 * structure, where one was imported; nothing where there is none (404) or the user may not
 * see references (403). Stale answers (another result or version opened meanwhile) are dropped. */
export async function showReferenceDice(result: Result, shownVersion: number): Promise<void> {
  const line = document.getElementById("result-reference")!;
  line.textContent = "";
  line.dataset.for = `${result.id}:${shownVersion}`;
  let comparison: Comparison;
  try {
    comparison = await getJson<Comparison>(urls.comparison(result.id, shownVersion));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return;
    if (line.dataset.for === `${result.id}:${shownVersion}`) {
      line.textContent = `Reference comparison unavailable: ${(error as Error).message}`;
    }
    return;
  }
  if (line.dataset.for !== `${result.id}:${shownVersion}`) return;
  line.textContent = `Dice against the reference mask: ${comparison.dice.toFixed(3)} ` +
    `(v${comparison.mask_version}; reference: ${comparison.reference_source})`;
}
