import { describe, expect, it } from "vitest";
import {
  agreementRows, countVoxels, fillBox, qaView, ReaderEdit, verdictProblem, voxelVolumeMl,
  type QaItem,
} from "../src/viewer/qamodel";

function item(fields: Partial<QaItem> = {}): QaItem {
  return {
    id: 7, state: "in_review", mode: "show_mask", blinded: true, confirmed_mask_visible: true,
    reader_mask_stored: false, reader_dice: null, verdict: "", verdict_reason: "",
    reviewer: "Dr. R", review_signature: null, mask_shape: [2, 4, 4], ...fields,
  };
}

describe("qaView", () => {
  it("shows the confirmed mask and the verdict form in the show-mask mode", () => {
    const view = qaView(item(), true);
    expect(view).toMatchObject({ draw: false, confirmedMask: true, verdictForm: true,
      agreement: false });
    expect(view.note).toContain("hidden until you sign");
  });

  it("asks for the own mask first in the independent mode, without the confirmed mask", () => {
    const view = qaView(item({ mode: "independent", confirmed_mask_visible: false }), true);
    expect(view).toMatchObject({ draw: true, confirmedMask: false, verdictForm: false,
      agreement: false });
    expect(view.note).toContain("confirmed mask");
  });

  it("shows the agreement and then the verdict form once the own mask is stored", () => {
    const view = qaView(item({ mode: "independent", reader_mask_stored: true,
      reader_dice: 0.8 }), true);
    expect(view).toMatchObject({ draw: false, confirmedMask: true, verdictForm: true,
      agreement: true });
  });

  it("never offers the confirmed mask the server does not disclose", () => {
    // A stored mask but the server still says no (e.g. a stale page): no mask, no agreement.
    const view = qaView(item({ mode: "independent", reader_mask_stored: true,
      confirmed_mask_visible: false }), true);
    expect(view.confirmedMask).toBe(false);
    expect(view.agreement).toBe(false);
  });

  it("offers nothing to sign on a case not taken, another reviewer's, or closed", () => {
    expect(qaView(item({ state: "sampled", reviewer: null }), false).verdictForm).toBe(false);
    expect(qaView(item({ state: "sampled", reviewer: null }), false).note).toContain("Read this case");
    const other = qaView(item({ mode: "independent" }), false);
    expect(other.draw || other.verdictForm).toBe(false);
    expect(other.note).toContain("Dr. R is reading");
    const closed = qaView(item({ state: "agreed", verdict: "agree" }), true);
    expect(closed.verdictForm || closed.draw).toBe(false);
    expect(closed.note).toContain("agreed");
  });
});

describe("verdictProblem", () => {
  it("needs a verdict, a reason to disagree and the password", () => {
    expect(verdictProblem(null, "", "pw")).toContain("agree or disagree");
    expect(verdictProblem("disagree", "  ", "pw")).toContain("reason");
    expect(verdictProblem("agree", "", "")).toContain("password");
    expect(verdictProblem("agree", "", "pw")).toBeNull();
    expect(verdictProblem("disagree", "misses the tail", "pw")).toBeNull();
  });
});

describe("agreement figures", () => {
  it("counts voxels and converts spacing to millilitres", () => {
    expect(countVoxels(new Uint8Array([0, 1, 1, 0, 1]))).toBe(3);
    expect(voxelVolumeMl(0.5, 0.5, 4)).toBeCloseTo(0.001);
    expect(voxelVolumeMl(0.5, undefined, 4)).toBeNull();
    expect(voxelVolumeMl(0.5, 0.5, 0)).toBeNull();
  });

  it("gives Dice, both sizes and the signed volume difference relative to the confirmed", () => {
    const rows = Object.fromEntries(agreementRows(0.81234, 120, 100, 0.5));
    expect(rows.Dice).toBe("0.812");
    expect(rows["Your mask"]).toBe("60.00 mL (120 voxels)");
    expect(rows["Confirmed mask"]).toBe("50.00 mL (100 voxels)");
    expect(rows["Volume difference"]).toBe("+10.00 mL (+20.0 %)");
    const smaller = Object.fromEntries(agreementRows(0.5, 75, 100, null));
    expect(smaller["Volume difference"]).toBe("-25 voxels (-25.0 %)");
  });

  it("shows only the Dice when the voxel counts are not known", () => {
    expect(agreementRows(0.7, null, null, 0.5)).toEqual([["Dice", "0.700"]]);
    expect(agreementRows(null, null, null, null)).toEqual([["Dice", "not known"]]);
  });
});

describe("fillBox", () => {
  it("fills the pixels whose centres lie in the box, corners in either order", () => {
    const filled = fillBox(new Uint8Array(16), 4, 4, [3, 3, 1, 1]);
    expect(Array.from(filled)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it("keeps what was painted and clips to the image", () => {
    const slice = new Uint8Array(16);
    slice[0] = 1;
    const filled = fillBox(slice, 4, 4, [2, -5, 99, 1]);
    expect(Array.from(filled.subarray(0, 4))).toEqual([1, 0, 1, 1]);
    expect(countVoxels(filled)).toBe(3);
    expect(slice[2]).toBe(0); // the input is not changed
  });
});

describe("ReaderEdit", () => {
  function store() {
    const slices = [new Uint8Array(4), new Uint8Array(4)];
    return {
      slices,
      readSlice: (k: number) => slices[k].slice(),
      writeSlice: (k: number, values: Uint8Array) => { slices[k] = values.slice(); },
    };
  }

  it("undoes box fills and strokes slice by slice, and says so", () => {
    const s = store();
    const states: [boolean, string][] = [];
    const edit = new ReaderEdit(s, (canUndo, message) => states.push([canUndo, message]));
    edit.fill(1, 2, 2, [0, 0, 2, 2]);
    expect(Array.from(s.slices[1])).toEqual([1, 1, 1, 1]);
    edit.strokeStarting(0);
    s.slices[0][0] = 1;
    edit.strokeEnded();
    expect(edit.painted).toBe(true);
    expect(edit.undo()).toBe(0);
    expect(Array.from(s.slices[0])).toEqual([0, 0, 0, 0]);
    expect(edit.undo()).toBe(1);
    expect(Array.from(s.slices[1])).toEqual([0, 0, 0, 0]);
    expect(edit.undo()).toBeNull();
    expect(states.at(-1)).toEqual([false, "Back to where you started."]);
  });
});
