// The mouse tools of the viewport. Left button: the chosen tool (window/level by default);
// middle: pan; right: zoom; wheel: scroll through the stack. The prompt tool (box or point)
// is drawn by prompting.ts on its own layer, so here it only frees the left button.
import {
  BrushTool,
  Enums as ToolEnums,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  utilities as toolUtilities,
  type Types as ToolTypes,
} from "@cornerstonejs/tools";
import { RENDERING_ENGINE_ID, VIEWPORT_ID } from "./setup";

const { MouseBindings } = ToolEnums;
export const TOOL_GROUP_ID = "medsam-tools";
export const BRUSH = "LabelmapBrush";
export const ERASER = "LabelmapEraser";

export type PrimaryTool = "windowLevel" | "zoom" | "pan" | "prompt" | "brush" | "eraser";

const TOOL_NAMES: Record<Exclude<PrimaryTool, "prompt">, string> = {
  windowLevel: WindowLevelTool.toolName,
  zoom: ZoomTool.toolName,
  pan: PanTool.toolName,
  brush: BRUSH,
  eraser: ERASER,
};

export class Tools {
  private readonly group: ToolTypes.IToolGroup;
  private current: PrimaryTool = "windowLevel";
  private readonly listeners: ((tool: PrimaryTool) => void)[] = [];

  constructor() {
    for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, BrushTool]) {
      addTool(tool);
    }
    const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID);
    if (!group) throw new Error("The viewer's tools could not be set up.");
    this.group = group;
    group.addTool(WindowLevelTool.toolName);
    group.addTool(PanTool.toolName);
    group.addTool(ZoomTool.toolName);
    group.addTool(StackScrollTool.toolName);
    group.addToolInstance(BRUSH, BrushTool.toolName, { activeStrategy: "FILL_INSIDE_CIRCLE" });
    group.addToolInstance(ERASER, BrushTool.toolName, { activeStrategy: "ERASE_INSIDE_CIRCLE" });
    group.addViewport(VIEWPORT_ID, RENDERING_ENGINE_ID);
    group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    group.setToolActive(StackScrollTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Wheel }],
    });
    this.use("windowLevel");
  }

  get active(): PrimaryTool {
    return this.current;
  }

  onChange(listener: (tool: PrimaryTool) => void): void {
    this.listeners.push(listener);
  }

  /** Give the left button to ``tool``; setToolPassive takes only the left button away,
   * so pan and zoom keep their middle and right buttons. */
  use(tool: PrimaryTool): void {
    const previous = this.current;
    if (previous !== "prompt" && previous !== tool) {
      const name = TOOL_NAMES[previous];
      if (previous === "brush" || previous === "eraser") this.group.setToolDisabled(name);
      else this.group.setToolPassive(name);
    }
    if (tool !== "prompt") {
      this.group.setToolActive(TOOL_NAMES[tool], {
        bindings: [{ mouseButton: MouseBindings.Primary }],
      });
    }
    this.current = tool;
    for (const listener of this.listeners) listener(tool);
  }

  setBrushSize(size: number): void {
    toolUtilities.segmentation.setBrushSizeForToolGroup(TOOL_GROUP_ID, size);
  }
}
