// The prompt picker: what it lists for a search, that a refused search or entry load is
// listed with the server's reason instead of vanishing, and that a late answer to an older
// search does not replace the newer one. The DOM is a minimal stand-in.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { urls, type PromptVersion, type ResolvedEntry } from "../src/viewer/api";
import { PromptPicker } from "../src/viewer/picker";
import { fakeServer, flush } from "./fakes";

class Node {
  children: Node[] = [];
  className = "";
  textContent = "";
  dataset: Record<string, string> = {};
  attributes: Record<string, string> = {};
  listeners: Record<string, ((event: object) => void)[]> = {};
  value = "";
  setAttribute(name: string, value: string) { this.attributes[name] = value; }
  appendChild(child: Node) { this.children.push(child); return child; }
  replaceChildren(...children: Node[]) { this.children = children; }
  addEventListener(type: string, listener: (event: object) => void) {
    (this.listeners[type] ??= []).push(listener);
  }
  fire(type: string, event: object = {}) {
    for (const listener of this.listeners[type] ?? []) listener({ preventDefault() {}, ...event });
  }
  blur() { this.fire("blur"); }
  get text(): string { return this.textContent + this.children.map((c) => c.text).join(""); }
}

const entry = (name: string, matched: string, id: number): ResolvedEntry => ({
  key: name.toLowerCase(), name, score: 1, matched, version_id: id, instructions: "",
  interaction: { tool: "box", count: 1 },
});

describe("PromptPicker", () => {
  let server: ReturnType<typeof fakeServer>;
  let input: Node;
  let list: Node;
  let chosen: PromptVersion[];

  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("window", globalThis);
    vi.stubGlobal("document", { createElement: () => new Node() });
    server = fakeServer();
    input = new Node();
    list = new Node();
    chosen = [];
    new PromptPicker(input as unknown as HTMLInputElement, list as unknown as HTMLUListElement,
      "CT", (version) => chosen.push(version));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  async function type(text: string) {
    input.value = text;
    input.fire("input");
    await vi.advanceTimersByTimeAsync(150);
  }

  it("lists the entries a search finds, with the synonym that matched", async () => {
    await type("L kidney");
    await server.take(urls.resolve("L kidney", "CT"))
      .answer(200, [entry("Left kidney", "L kidney", 5), entry("Liver", "Liver", 6)]);
    expect(list.children.map((c) => c.text)).toEqual(["Left kidney “L kidney”", "Liver"]);
    expect(list.children[0].dataset.version).toBe("5");
  });

  it("lists a refused search with the server's reason and what to do", async () => {
    await type("liver");
    await server.take(urls.resolve("liver", "CT")).answer(500, { detail: "Search is down." });
    expect(list.children).toHaveLength(1);
    expect(list.children[0].className).toBe("error");
    expect(list.children[0].attributes.role).toBe("alert");
    expect(list.children[0].text).toBe("Searching the prompt library failed: Search is down. " +
      "Type again to retry; if it keeps failing, reload the page.");
  });

  it("keeps the newer search's options when the older one answers late", async () => {
    await type("li");
    const older = server.take(urls.resolve("li", "CT"));
    await type("liver");
    await server.take(urls.resolve("liver", "CT")).answer(200, [entry("Liver", "Liver", 6)]);
    await older.answer(500, { detail: "too slow" });
    expect(list.children.map((c) => c.text)).toEqual(["Liver"]);
  });

  it("says so when the chosen entry cannot be loaded, and chooses nothing", async () => {
    await type("liver");
    await server.take(urls.resolve("liver", "CT")).answer(200, [entry("Liver", "Liver", 6)]);
    list.children[0].fire("mousedown");
    await server.take(urls.version(6)).answer(404, { detail: "Not found." });
    await vi.advanceTimersByTimeAsync(200);
    await flush();
    expect(chosen).toEqual([]);
    expect(list.children.map((c) => c.text)).toEqual([
      "Loading the entry “Liver” failed: Not found. Choose it again; if it keeps failing, " +
      "reload the page.",
    ]);
  });
});
