// The result panel's states: what a draft, a stale draft, another annotator's draft and a
// signed result offer to whom, what saving an edit changes, and when signing is refused.
import { describe, expect, it } from "vitest";
import type { MaskVersion, Result } from "../src/viewer/api";
import {
  AGREEMENT_PENDING, panelState, signingBlocked, withAgreement, withSavedVersion,
} from "../src/viewer/results";

function version(number: number): MaskVersion {
  return {
    number, sha256: String(number).repeat(64), shape: [3, 256, 256], voxel_count: 100,
    volume_ml: 1.5, created_by: number === 1 ? null : "annotator", created_at: "", note: "",
  };
}

function result(overrides: Partial<Result> = {}): Result {
  return {
    id: 7, job: "j", series: 1, structure_key: "liver-ct", prompt_version: 3,
    prompt: { name: "Liver", colour: "#aa3300", opacity: 0.5, number: 2 },
    state: "ai_draft", provenance: {}, agreement: null, flags: [], created_at: "",
    mask_versions: [version(1)], final_version: null, signature: null,
    owner: { id: 10, name: "Dr. Owner" }, ...overrides,
  };
}

const OWNER = { canEdit: true, userId: 10, shownVersion: 1 };

describe("result panel", () => {
  it("offers the owner of an AI draft editing and signing, marked as a draft", () => {
    const view = panelState(result(), OWNER);
    expect(view).toMatchObject({
      heading: "DRAFT · AI draft", draft: true, staleBanner: null, owns: true,
      editable: true, decision: true, confirmBlocked: null, latestVersion: 1,
    });
  });

  it("offers another annotator's draft for reading only", () => {
    const view = panelState(result(), { ...OWNER, userId: 11 });
    expect(view).toMatchObject({ owns: false, editable: false, decision: false });
  });

  it("offers a reviewer nothing to edit or sign", () => {
    const view = panelState(result(), { ...OWNER, canEdit: false });
    expect(view).toMatchObject({ editable: false, decision: false, draft: true });
  });

  it("edits only the latest version: an older one is shown read-only", () => {
    const edited = result({ state: "edited", mask_versions: [version(1), version(2)] });
    expect(panelState(edited, { ...OWNER, shownVersion: 1 }).editable).toBe(false);
    expect(panelState(edited, { ...OWNER, shownVersion: 2 })).toMatchObject({
      editable: true, heading: "DRAFT · Edited draft", latestVersion: 2,
    });
  });

  it("flags a stale draft, keeps it from being edited and says why Confirm is off", () => {
    const stale = result({ stale: true, stale_reason: "the series now has 4 images, not 3" });
    expect(panelState(stale, OWNER)).toMatchObject({
      staleBanner: "STALE — the series now has 4 images, not 3",
      editable: false, decision: true, confirmBlocked: "the series now has 4 images, not 3",
    });
  });

  it("keeps Confirm off while the agreement check is pending, editing allowed meanwhile", () => {
    const checking = result({ agreement_pending: true });
    expect(panelState(checking, OWNER)).toMatchObject({
      editable: true, decision: true, confirmBlocked: AGREEMENT_PENDING,
    });
    const flag = { code: "low_agreement", message: "agrees only 0.61" };
    const polled = result({ agreement_pending: false, agreement: 0.61, flags: [flag] });
    // A version saved while the check ran stays; the check's outcome is taken from the poll.
    const shown = withSavedVersion(checking, version(2));
    const updated = withAgreement(shown, polled);
    expect(updated).toMatchObject({ agreement: 0.61, flags: [flag], agreement_pending: false,
                                    state: "edited" });
    expect(updated.mask_versions.map((v) => v.number)).toEqual([1, 2]);
    expect(panelState(updated, { ...OWNER, shownVersion: 2 }).confirmBlocked).toBeNull();
  });

  it("says a stale result is stale even while its check is pending", () => {
    const both = result({ stale: true, stale_reason: "the series changed", agreement_pending: true });
    expect(panelState(both, OWNER).confirmBlocked).toBe("the series changed");
  });

  it("shows a confirmed or rejected result as final, with no draft stamp or editing", () => {
    for (const [state, heading] of [["confirmed", "Confirmed"], ["rejected", "Rejected"]] as const) {
      expect(panelState(result({ state }), OWNER)).toMatchObject({
        heading, draft: false, editable: false, decision: false, staleBanner: null,
      });
    }
  });

  it("makes a saved edit the draft's latest version", () => {
    const saved = withSavedVersion(result(), version(2));
    expect(saved.state).toBe("edited");
    expect(saved.mask_versions.map((v) => v.number)).toEqual([1, 2]);
    expect(panelState(saved, { ...OWNER, shownVersion: 2 }).editable).toBe(true);
  });

  it("refuses to sign an unsaved edit or a version other than the latest", () => {
    expect(signingBlocked(true, 2, 2))
      .toBe("Save or undo your edit before signing: a signature covers a saved version.");
    expect(signingBlocked(false, 1, 2))
      .toBe("You are looking at version 1; open version 2 to sign it.");
    expect(signingBlocked(false, 2, 2)).toBeNull();
  });
});
