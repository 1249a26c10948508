/**
 * What a tensor's leading axis counts. Every tensor has an implicit leading axis: N clips (or
 * images, sequences) for most, but a detector's `boxes()` input [K, 5] and everything computed
 * from `roi_align` over it hold one row per box: K, which differs from N and from batch to batch.
 * Shapes do not show the difference, so the checker follows it through the graph: a layer's rows
 * are its inputs' rows, `roi_align` turns a per-clip map into per-box rows, and two row kinds
 * never meet in one layer (VN028). `vnet summary` prints per-box shapes as [K, ...].
 */
import type { Code } from "../diagnostics/codes.js";
import type { Range } from "../diagnostics/diagnostic.js";
import type { Layer } from "./network.js";

/** The leading axis of a layer's output: clips (N) or boxes (K). */
export type Rows = "clips" | "boxes";

/** Whether a layer is a `boxes()` input. */
export const isBoxesInput = (layer: Layer): boolean => layer.op === "input" && layer.args.kind === "boxes";

/** The rows of every layer of a network (top-level layers; a `per_frame` body keeps its clip's rows). */
export function layerRows(layers: readonly Layer[]): ReadonlyMap<number, Rows> {
  const rows = new Map<number, Rows>();
  for (const layer of layers) {
    if (layer.op === "input") rows.set(layer.id, isBoxesInput(layer) ? "boxes" : "clips");
    else if (layer.op === "roi_align") rows.set(layer.id, "boxes");
    else rows.set(layer.id, layer.inputs.some((i) => rows.get(i) === "boxes") ? "boxes" : "clips");
  }
  return rows;
}

/** Reports layers that mix per-box and per-clip rows, or read boxes other than through `roi_align`. */
export function checkRows(layers: readonly Layer[], report: (code: Code, message: string, range: Range, hint?: string) => void): void {
  const rows = layerRows(layers);
  const byId = new Map(layers.map((l) => [l.id, l]));
  for (const layer of layers) {
    const inputs = layer.inputs.map((i) => byId.get(i)).filter((l): l is Layer => l !== undefined);
    if (layer.op === "roi_align") {
      const [features, boxes] = inputs;
      if (boxes && !isBoxesInput(boxes)) report("VN028", `\`roi_align\` reads its boxes from a \`boxes()\` input, not from \`${boxes.name}\``, layer.origin.range, "declare `input boxes = boxes()` and pass `[features, boxes] -> roi_align(...)`");
      else if (features && rows.get(features.id) === "boxes") report("VN028", `\`roi_align\` pools a per-clip feature map [N, ...], but \`${features.name}\` already has one row per box [K, ...]`, layer.origin.range);
      continue;
    }
    const readsBoxes = inputs.find(isBoxesInput);
    if (readsBoxes) {
      report("VN028", `\`${layer.op}\` reads the boxes \`${readsBoxes.name}\` [K, 5] directly; only \`roi_align\` reads boxes`, layer.origin.range, `pool per-box features with \`[features, ${readsBoxes.name}] -> roi_align(...)\``);
      continue;
    }
    const kinds = new Set(inputs.map((l) => rows.get(l.id)));
    if (kinds.size > 1) {
      const perBox = inputs.find((l) => rows.get(l.id) === "boxes")!;
      const perClip = inputs.find((l) => rows.get(l.id) === "clips")!;
      report("VN028", `\`${layer.op}\` combines \`${perBox.name}\`, one row per box [K, ...], with \`${perClip.name}\`, one row per clip [N, ...]: the boxes are not the batch`, layer.origin.range, "pool the clip features per box with `roi_align` first (as PySlowFast's ResNetRoIHead does for each pathway)");
    }
  }
}
