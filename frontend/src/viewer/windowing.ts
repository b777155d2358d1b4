// Window/level presets: the chosen prompt entry's own window first, then the modality's usual
// ones. Keys 1-5 pick them; the select in the left panel shows which one is on.
import type { Types } from "@cornerstonejs/core";

export interface Preset {
  label: string;
  level: number;
  width: number;
}

const MODALITY_PRESETS: Record<string, Preset[]> = {
  CT: [
    { label: "Soft tissue", level: 40, width: 400 },
    { label: "Lung", level: -600, width: 1500 },
    { label: "Bone", level: 400, width: 1800 },
    { label: "Brain", level: 40, width: 80 },
    { label: "Liver", level: 60, width: 160 },
  ],
};

export class Windowing {
  private presets: Preset[] = [];
  private protocol: Preset | null = null;

  constructor(
    private readonly viewport: Types.IStackViewport,
    private readonly modality: string,
    private readonly select: HTMLSelectElement,
  ) {
    select.addEventListener("change", () => {
      const index = Number(select.value);
      if (index >= 0) this.apply(this.presets[index]);
      else this.reset();
    });
    this.rebuild();
  }

  /** The prompt entry's window becomes preset 1 and is applied at once. */
  setProtocol(name: string | null, window: { level: number; width: number } | undefined): void {
    this.protocol = name && window ? { label: `${name} (protocol)`, ...window } : null;
    this.rebuild();
    if (this.protocol) this.choose(0);
  }

  choose(index: number): void {
    const preset = this.presets[index];
    if (!preset) return;
    this.select.value = String(index);
    this.apply(preset);
  }

  private rebuild(): void {
    this.presets = [
      ...(this.protocol ? [this.protocol] : []),
      ...(MODALITY_PRESETS[this.modality.toUpperCase()] ?? []),
    ];
    this.select.replaceChildren(
      new Option("Image default", "-1"),
      ...this.presets.map(
        (p, i) => new Option(`${i + 1}. ${p.label}  W${p.width} L${p.level}`, String(i)),
      ),
    );
  }

  private apply(preset: Preset): void {
    const half = preset.width / 2;
    this.viewport.setProperties({
      voiRange: { lower: preset.level - half, upper: preset.level + half },
    });
    this.viewport.render();
  }

  reset(): void {
    this.select.value = "-1";
    this.viewport.resetProperties();
    this.viewport.render();
  }

  invert(): void {
    const inverted = Boolean(this.viewport.getProperties().invert);
    this.viewport.setProperties({ invert: !inverted });
    this.viewport.render();
  }
}
