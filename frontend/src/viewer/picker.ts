// The prompt picker: approved entries for the series' modality, found by typing a name or a
// synonym ("L kidney", "spleen"). Choosing one loads its approved content.
import {
  describeFailure, getJson, urls, type EntrySummary, type PromptVersion, type ResolvedEntry,
} from "./api";

interface Option {
  name: string;
  versionId: number;
  hint: string;
}

export class PromptPicker {
  private options: Option[] = [];
  private timer = 0;
  private hideTimer = 0;
  private query = 0;

  constructor(
    private readonly input: HTMLInputElement,
    private readonly list: HTMLUListElement,
    private readonly modality: string,
    private readonly onChoose: (version: PromptVersion) => void,
  ) {
    input.addEventListener("input", () => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.search(), 150);
    });
    input.addEventListener("focus", () => void this.search());
    input.addEventListener("blur", () => {
      window.clearTimeout(this.timer);
      this.query++;
      this.hideTimer = window.setTimeout(() => this.list.replaceChildren(), 150);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && this.options.length) {
        event.preventDefault();
        void this.choose(this.options[0]);
      } else if (event.key === "Escape") {
        this.list.replaceChildren();
      }
    });
  }

  /** Search and list the options; a failure is listed in their place (never thrown). */
  private async search(): Promise<void> {
    const text = this.input.value.trim();
    const query = ++this.query;
    try {
      await this.find(text, query);
    } catch (error) {
      if (query === this.query) {
        this.showProblem(describeFailure("Searching the prompt library", error,
          "Type again to retry; if it keeps failing, reload the page."));
      }
    }
  }

  private async find(text: string, query: number): Promise<void> {
    if (text) {
      const found = await getJson<ResolvedEntry[]>(urls.resolve(text, this.modality));
      if (query !== this.query) return;
      this.options = found.map((e) => ({
        name: e.name, versionId: e.version_id,
        hint: e.matched.toLowerCase() !== e.name.toLowerCase() ? `“${e.matched}”` : "",
      }));
    } else {
      const entries = await getJson<EntrySummary[]>(urls.entries(this.modality));
      if (query !== this.query) return;
      this.options = entries
        .filter((e) => e.active_version)
        .map((e) => ({ name: e.name, versionId: e.active_version!.id, hint: "" }))
        .sort((a, b) => a.name.localeCompare(b.name));
    }
    this.render(text);
  }

  private showProblem(message: string): void {
    window.clearTimeout(this.hideTimer);
    const item = document.createElement("li");
    item.className = "error";
    item.setAttribute("role", "alert");
    item.textContent = message;
    this.list.replaceChildren(item);
  }

  private render(text: string): void {
    if (!this.options.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = text
        ? `No approved ${this.modality} entry matches “${text}”.`
        : `No approved entries for ${this.modality}.`;
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(
      ...this.options.map((option) => {
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        item.dataset.version = String(option.versionId);
        item.textContent = option.name;
        if (option.hint) {
          const hint = document.createElement("span");
          hint.className = "fineprint";
          hint.textContent = ` ${option.hint}`;
          item.appendChild(hint);
        }
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          void this.choose(option);
        });
        return item;
      }),
    );
  }

  private async choose(option: Option): Promise<void> {
    window.clearTimeout(this.timer);
    this.query++;
    this.list.replaceChildren();
    this.input.value = option.name;
    this.input.blur();
    let version: PromptVersion;
    try {
      version = await getJson<PromptVersion>(urls.version(option.versionId));
    } catch (error) {
      this.showProblem(describeFailure(`Loading the entry “${option.name}”`, error,
        "Choose it again; if it keeps failing, reload the page."));
      return;
    }
    this.onChoose(version);
  }
}
