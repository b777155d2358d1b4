// Slice planes, slice position and orientation letters from DICOM direction cosines, and the
// page -> canvas -> image-pixel bounds of a prompt; expected values worked out by hand from
// the DICOM patient axes (LPS: +x left, +y posterior, +z head).
import { describe, expect, it } from "vitest";
import { clampToImage, edgeLetters, pageToCanvas, planeOf, sliceLocation, sliceNormal,
  type ScreenAxis } from "../src/viewer/geometry";

const AXIAL = { row: [1, 0, 0], column: [0, 1, 0] };
const CORONAL = { row: [1, 0, 0], column: [0, 0, -1] };
const SAGITTAL = { row: [0, 1, 0], column: [0, 0, -1] };

function tilted(degrees: number) {
  const a = (degrees * Math.PI) / 180;
  return { row: [1, 0, 0], column: [0, Math.cos(a), -Math.sin(a)] };
}

describe("acquisition plane", () => {
  it("names the plane of axial, coronal and sagittal slices", () => {
    expect(planeOf(AXIAL.row, AXIAL.column)).toBe("axial");
    expect(planeOf(CORONAL.row, CORONAL.column)).toBe("coronal");
    expect(planeOf(SAGITTAL.row, SAGITTAL.column)).toBe("sagittal");
  });

  it("keeps a gantry tilt of 20 degrees axial and calls 45 degrees oblique", () => {
    expect(planeOf(tilted(20).row, tilted(20).column)).toBe("axial");
    expect(planeOf(tilted(45).row, tilted(45).column)).toBeNull();
  });

  it("puts the normal of an axial slice toward the head", () => {
    expect(sliceNormal(AXIAL.row, AXIAL.column)).toEqual([0, 0, 1]);
  });

  it("gives the slice position along its normal, in mm", () => {
    expect(sliceLocation([-250, -250, 42.5], AXIAL.row, AXIAL.column)).toBeCloseTo(42.5);
    // Coronal: the normal is +y (posterior), so the location is the y of the position.
    expect(sliceLocation([-250, 17, 100], CORONAL.row, CORONAL.column)).toBeCloseTo(17);
  });
});

describe("orientation letters", () => {
  const axes = (x: [number, number], y: [number, number], z: [number, number]): ScreenAxis[] => [
    { dx: x[0], dy: x[1], plus: "L", minus: "R" },
    { dx: y[0], dy: y[1], plus: "P", minus: "A" },
    { dx: z[0], dy: z[1], plus: "H", minus: "F" },
  ];

  it("labels an axial slice as radiologists see it: patient's right on the screen's left", () => {
    // Columns run toward the patient's left, rows toward the back; the head points out of
    // the screen.
    expect(edgeLetters(axes([10, 0], [0, 10], [0, 0])))
      .toEqual({ left: "R", right: "L", top: "A", bottom: "P" });
  });

  it("follows a horizontal flip and a coronal view", () => {
    expect(edgeLetters(axes([-10, 0], [0, 10], [0, 0])))
      .toEqual({ left: "L", right: "R", top: "A", bottom: "P" });
    expect(edgeLetters(axes([10, 0], [0, 0], [0, -10])))
      .toEqual({ left: "R", right: "L", top: "H", bottom: "F" });
  });

  it("takes the axis that points most toward an edge when the view is rotated", () => {
    expect(edgeLetters(axes([9, 4], [-4, 9], [0, 0])))
      .toEqual({ left: "R", right: "L", top: "A", bottom: "P" });
  });
});

describe("prompt points", () => {
  it("converts page coordinates to canvas coordinates of the layer", () => {
    expect(pageToCanvas(350, 220, { left: 300, top: 100 })).toEqual([50, 120]);
  });

  it("keeps a drag that leaves the image on its edge (columns x, rows y)", () => {
    expect(clampToImage([-5, 40], 256, 512)).toEqual([0, 40]);
    expect(clampToImage([600, 300], 256, 512)).toEqual([512, 256]);
    expect(clampToImage([12.5, 7.25], 256, 512)).toEqual([12.5, 7.25]);
  });
});
