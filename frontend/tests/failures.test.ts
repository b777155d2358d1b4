// What a failed action tells the user: the server's own words when it answered, and what to
// do next; and that a failed save keeps the edit.
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, describeFailure, getJson, urls } from "../src/viewer/api";
import { EditSession } from "../src/viewer/editing";
import type { Labelmap } from "../src/viewer/labelmap";
import { fakeServer } from "./fakes";

afterEach(() => vi.unstubAllGlobals());

describe("describeFailure", () => {
  it("gives the server's detail and the next step for a 4xx or 5xx answer", async () => {
    const server = fakeServer();
    const asked = getJson("/api/v1/x").catch((error: unknown) => error);
    await server.take("/api/v1/x").answer(500, { detail: "The database is unavailable." });
    expect(describeFailure("Loading the results", await asked, "Try again later."))
      .toBe("Loading the results failed: The database is unavailable. Try again later.");
  });

  it("names the fields a 400 answer refers to", () => {
    const error = new ApiError(400, { geometry: ["The box lies outside the image."] });
    expect(describeFailure("Starting the segmentation", error))
      .toBe("Starting the segmentation failed: geometry: The box lies outside the image. " +
        "Try again; if it keeps failing, reload the page.");
  });

  it("sends the user to sign in again when the session is gone", () => {
    const error = new ApiError(403, { detail: "Authentication credentials were not provided." });
    expect(describeFailure("Searching the prompt library", error))
      .toBe("Searching the prompt library failed: Authentication credentials were not provided. " +
        "If your session ended, reload the page and sign in again.");
  });

  it("says the server could not be reached when no answer came", () => {
    expect(describeFailure("Cancelling", new TypeError("Failed to fetch")))
      .toBe("Cancelling failed: the server could not be reached (Failed to fetch). " +
        "Check the connection, then try again.");
  });

  it("uses the status when the server sent no detail", () => {
    expect(new ApiError(502, null).message).toBe("The server answered 502.");
  });
});

describe("saving an edit", () => {
  function session() {
    const slices = [Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0, 0, 0, 0)];
    const labelmap = {
      readSlice: (k: number) => slices[k].slice(),
      writeSlice: (k: number, values: Uint8Array) => slices[k].set(values),
      read: () => Uint8Array.of(...slices[0], ...slices[1]),
    } as unknown as Labelmap;
    const states: { dirty: boolean; canUndo: boolean; message: string }[] = [];
    const edit = new EditSession(7, 1, labelmap, (state) => states.push(state));
    edit.strokeStarting(1);
    slices[1][2] = 1;
    edit.strokeEnded();
    return { edit, slices, states };
  }

  it("keeps the edit and says so when someone else saved first (409)", async () => {
    const server = fakeServer();
    const { edit, states } = session();
    const saving = edit.save("brush");
    await vi.waitUntil(() => server.requests.length > 0);
    await server.take(urls.versions(7)).answer(409, {
      version: ["Version 2 was saved meanwhile; reload to see it."],
    });
    expect(await saving).toBeNull();
    expect(states.at(-1)).toEqual({ dirty: true, canUndo: true,
      message: "Version 2 was saved meanwhile; reload to see it. Your edit is kept on screen." });
    expect(edit.hasChanges).toBe(true);
  });

  it("says why a save failed and how to retry, without throwing", async () => {
    const server = fakeServer();
    const { edit, states } = session();
    const saving = edit.save("brush");
    await vi.waitUntil(() => server.requests.length > 0);
    await server.take(urls.versions(7)).answer(503, { detail: "The server is busy." });
    expect(await saving).toBeNull();
    expect(states.at(-1)?.message).toBe("Saving the edit failed: The server is busy. " +
      "Your edit is kept on screen: press Save edit again.");
  });

  it("sends the edited mask against its base version and starts clean after a save", async () => {
    const server = fakeServer();
    const { edit, states } = session();
    const saving = edit.save("brush");
    await vi.waitUntil(() => server.requests.length > 0);
    const request = server.take(urls.versions(7));
    expect(request.body).toMatchObject({ base_version: 1, note: "brush" });
    await request.answer(201, { number: 2 });
    expect((await saving)?.number).toBe(2);
    expect(states.at(-1)).toEqual({ dirty: false, canUndo: false, message: "Saved as version 2." });
  });

  it("undoes a stroke on its slice and knows when it is back to the saved version", () => {
    const { edit, slices, states } = session();
    expect(edit.undo()).toBe(1);
    expect(Array.from(slices[1])).toEqual([0, 0, 0, 0]);
    expect(edit.hasChanges).toBe(false);
    expect(states.at(-1)?.message).toBe("Back to the saved version.");
    expect(edit.undo()).toBeNull();
  });
});
