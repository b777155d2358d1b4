// The viewer page: loads the series into a Cornerstone3D stack viewport and wires the prompt
// picker, the prompt layer, job progress, the result overlay, editing and signing together.
import { Enums } from "@cornerstonejs/core";
import {
  ApiError, configureApi, describeFailure, getJson, urls, type Job, type PromptVersion,
  type SeriesLayout,
} from "./api";
import { updateCorners } from "./corners";
import { CorrectionPanel } from "./correcting";
import { bindShortcuts } from "./keyboard";
import { Prefetcher } from "./prefetch";
import { PromptPanel } from "./promptpanel";
import { PromptPicker } from "./picker";
import { JobProgress } from "./progress";
import { LivePreview } from "./preview";
import { PromptLayer } from "./prompting";
import { qaConfig, QaReading } from "./qa";
import { ResultView } from "./resultview";
import { initCornerstone, loadImageIds, openStack } from "./setup";
import { Tools, type PrimaryTool } from "./tools";
import { Windowing } from "./windowing";

const TOOLBAR: [PrimaryTool, string, string][] = [
  ["windowLevel", "W/L", "W"], ["zoom", "Zoom", "Z"], ["pan", "Pan", "P"],
  ["prompt", "Prompt", "B"], ["brush", "Brush", "D"], ["eraser", "Eraser", "E"],
];

function byId<T extends Element = HTMLElement>(id: string): T {
  return document.getElementById(id) as unknown as T;
}

export async function startViewer(root: HTMLElement): Promise<void> {
  configureApi(root.dataset.csrf ?? "");
  const canEdit = root.dataset.canEdit === "1";
  // ?qa=<item>: the page is a QA case's second reading (qa.ts), not the annotation panel.
  const qaSetup = qaConfig(root);
  const layout = await getJson<SeriesLayout>(urls.layout(Number(root.dataset.series)));
  await initCornerstone();
  const imageIds = await loadImageIds(layout);
  const stage = await openStack(byId("viewport"), imageIds, Math.floor(imageIds.length / 2));
  byId("loading").hidden = true;
  if (layout.problem) {
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = `This series cannot be segmented: ${layout.problem}`;
    root.querySelector(".panel.left")!.prepend(note);
    byId<HTMLInputElement>("prompt-search")?.setAttribute("disabled", "");
  }

  const tools = new Tools();
  const windowing = new Windowing(stage.viewport, layout.modality, byId("wl-preset"));
  const buttons = new Map<PrimaryTool, HTMLButtonElement>();
  for (const [tool, label, key] of TOOLBAR) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.title = `${label} (${key})`;
    button.dataset.tool = tool;
    button.addEventListener("click", () => useTool(tool));
    byId("toolbar").appendChild(button);
    buttons.set(tool, button);
  }
  const layer = new PromptLayer(byId<SVGSVGElement>("prompt-layer"), stage, () => {
    if (correction?.active) correction.update();
    else panel?.update();
  });
  const onEditable = (editable: boolean) => {
    correction?.shown(results?.result?.id ?? null, editable);
    buttons.get("brush")!.disabled = !editable;
    buttons.get("eraser")!.disabled = !editable;
    if (!editable && (tools.active === "brush" || tools.active === "eraser")) {
      useTool("windowLevel");
    }
  };
  // The QA reading's protocol: the result's approved prompt version (the page names it).
  let qaVersion: PromptVersion | null = null;
  if (qaSetup) {
    try {
      qaVersion = await getJson<PromptVersion>(urls.version(Number(root.dataset.qaPromptVersion)));
    } catch (error) {
      byId("qa-error").textContent = describeFailure("Loading the prompt protocol", error,
        "Reload the page; you can still paint your mask with the brush.");
    }
  }
  const qa = qaSetup
    ? new QaReading(stage, layout, qaSetup, qaVersion?.content.display?.colour ?? null, onEditable)
    : null;
  const results = qa ? null : new ResultView(stage, layout, canEdit, onEditable, (promptVersion) => {
    getJson<PromptVersion>(urls.version(promptVersion)).then((version) => {
      panel?.choose(version);
      byId("prompt-status").textContent +=
        " Scroll to another slice and draw; the new result replaces this draft.";
    }, (error: unknown) => {
      byId("decision-status").textContent = describeFailure("Loading the prompt entry", error,
        "Press Re-prompt again, or choose the structure in the left panel.");
    });
  });
  const progress = new JobProgress(byId("job"), byId("job-progress"), byId("job-status"),
    byId("job-cancel"), (job: Job) => {
      const corrected = correction?.owns(job) ?? false;
      panel?.update();
      if (job.status === "succeeded" && job.result !== null) {
        if (!correction?.active) layer.clear();
        if (qa) void qa.loadDraft(job.result);
        else {
          // refresh reports its own failure; the new latest version is opened.
          void results!.refresh(job.result).then(() => {
            if (corrected) correction!.finished(job, results!.result);
          });
        }
      } else if (corrected) {
        correction!.finished(job, null);
      }
    });
  const qaDraws = !!qaSetup && root.dataset.qaMode === "independent";
  // Annotators: the slice shown and its neighbours are embedded on a worker before the box
  // is drawn (prefetch.ts); QA reviewers do not run the engine.
  const prefetcher = canEdit ? new Prefetcher(layout.series, layout.shape[0]) : null;
  const panel = canEdit
    ? new PromptPanel(layout.series, layer, windowing, tools, progress, () => null,
      (version) => prefetcher?.want(stage.viewport.getCurrentImageIdIndex(), version.id))
    : qaDraws
      ? new PromptPanel(layout.series, layer, windowing, tools, progress, (error) => (
        error instanceof ApiError && error.status === 403
          ? `The engine is not open to QA reviewers here (the server says: ${error.message}) ` +
            "Segment by hand with the same protocol: keep the box you drew and press " +
            "\"Fill the drawn box\", and paint or erase with the brush (D) and eraser (E); " +
            "then store your mask."
          : null))
      : null;
  buttons.get("prompt")!.disabled = !(canEdit || qaDraws);
  // Annotators: the mask follows the box while it is dragged (preview.ts); never the record.
  const live = canEdit && panel
    ? new LivePreview(layout.series, (shown) => layer.setPreview(shown), (text) => {
      byId("prompt-status").textContent += ` ${text}`;
    })
    : null;
  if (live) {
    layer.onDrag = (slice, box) => {
      if (!correction?.active) live.drag(slice, box, panel?.version?.id ?? null);
    };
    layer.onCleared = () => live.clear();
  }
  // Correcting the open draft from one slice (the edit tools' "Correct with a box").
  const correction = results && canEdit && document.getElementById("correct-start")
    ? new CorrectionPanel(results, layer, tools, progress, () => {
      if (panel) panel.restore();
      else layer.setTemplate(null, null);
    })
    : null;
  byId("qa-fill-box")?.addEventListener("click", () => {
    const status = byId("qa-draw-status");
    if (qa?.fillBoxes(layer.prompts)) {
      layer.clear();
      useTool("brush");
    } else {
      status.textContent = "Draw a box first: press Prompt (B) and drag over the structure.";
    }
  });
  if (panel && canEdit) {
    new PromptPicker(byId("prompt-search"), byId("prompt-options"), layout.modality,
      (version) => panel.choose(version));
  }

  function useTool(tool: PrimaryTool): void {
    if (buttons.get(tool)?.disabled) return;
    tools.use(tool);
  }
  tools.onChange((tool) => {
    for (const [name, button] of buttons) button.classList.toggle("active", name === tool);
    layer.setEnabled(tool === "prompt");
  });
  buttons.get("windowLevel")!.classList.add("active");

  const brushSize = byId<HTMLInputElement>("brush-size");
  const setBrush = (size: number) => {
    brushSize.value = String(Math.min(40, Math.max(1, size)));
    tools.setBrushSize(Number(brushSize.value));
  };
  brushSize.addEventListener("input", () => setBrush(Number(brushSize.value)));
  let stroking = false;
  stage.element.addEventListener("pointerdown", (event) => {
    const edit = qa ? qa.edit : results!.edit;
    if (event.button === 0 && (tools.active === "brush" || tools.active === "eraser") && edit) {
      stroking = true;
      edit.strokeStarting(stage.viewport.getCurrentImageIdIndex());
    }
  }, { capture: true });
  window.addEventListener("pointerup", () => {
    if (stroking) (qa ? qa.edit : results!.edit)?.strokeEnded();
    stroking = false;
  });

  const loading = byId("loading");
  stage.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, () => {
    prefetcher?.want(stage.viewport.getCurrentImageIdIndex(), panel?.version?.id ?? null);
  });
  stage.element.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
    updateCorners(stage, layout);
    layer.redraw();
    if (loading.classList.contains("error")) loading.hidden = true;
  });
  /** A slice that could not be shown: said over the image until one is drawn again. */
  const sliceFailed = (error: unknown) => {
    console.error(error);
    loading.textContent = describeFailure("Showing the slice", error,
      "Scroll to it again; if it keeps failing, reload the page.");
    loading.classList.add("error");
    loading.hidden = false;
  };

  bindShortcuts({
    viewport: stage.viewport,
    useTool,
    preset: (i) => windowing.choose(i),
    reset: () => {
      stage.viewport.resetCamera();
      windowing.reset();
    },
    invert: () => windowing.invert(),
    toggleOverlay: () => (qa ?? results!).toggleOverlay(),
    brushSize: (delta) => setBrush(Number(brushSize.value) + delta),
    undo: () => (qa ?? results!).undo(),
    save: () => void results?.save(),
    escape: () => useTool("windowLevel"),
    sliceFailed,
  });

  setBrush(Number(brushSize.value));
  if (qa) {
    // No result list and no live jobs of the series here: only what the QA item discloses.
    await qa.start();
    if (qa.edit && panel && qaVersion) panel.choose(qaVersion);
  } else {
    const openResult = Number(root.dataset.openResult) || null;
    await results!.refresh(openResult);
    const live = await getJson<{ results: Job[] }>(urls.liveJobs(layout.series));
    if (live.results.length) progress.follow(live.results[0]);
  }
  updateCorners(stage, layout);

  // For the browser tests and bench/viewer_bench.py: what is on screen, and when it got there.
  Object.assign(window, {
    medsamViewer: {
      stage, layer, results, tools, progress, qa, correction, live,
      slice: () => stage.viewport.getCurrentImageIdIndex(),
    },
  });
  root.dataset.ready = "1";
}
