/**
 * VN028 box-rows: per-box tensors [K, ...] (a `boxes()` input, `roi_align` and what follows it)
 * and per-clip tensors [N, ...] never meet in one layer, and only `roi_align` reads boxes
 * (src/semantics/rows.ts follows the rows through the graph).
 */
import type { NetworkGraphRule } from "../context.js";
import type { Layer } from "../network.js";
import { isBoxesInput, layerRows } from "../rows.js";

/** Reports layers that mix per-box and per-clip rows, or read boxes other than through `roi_align`. */
export const boxRowsRule: NetworkGraphRule = (context, network) => {
  const layers = network.layers;
  const report = (message: string, layer: Layer, hint?: string) =>
    context.report("VN028", "error", message, layer.origin.file, layer.origin.range, hint ? { hint } : {});
  const rows = layerRows(layers);
  const byId = new Map(layers.map((l) => [l.id, l]));
  for (const layer of layers) {
    const inputs = layer.inputs.map((i) => byId.get(i)).filter((l): l is Layer => l !== undefined);
    if (layer.op === "roi_align") {
      const [features, boxes] = inputs;
      if (boxes && !isBoxesInput(boxes))
        report(
          `\`roi_align\` reads its boxes from a \`boxes()\` input, not from \`${boxes.name}\``,
          layer,
          "declare `input boxes = boxes()` and pass `[features, boxes] -> roi_align(...)`",
        );
      else if (features && rows.get(features.id) === "boxes")
        report(`\`roi_align\` pools a per-clip feature map [N, ...], but \`${features.name}\` already has one row per box [K, ...]`, layer);
      continue;
    }
    const readsBoxes = inputs.find(isBoxesInput);
    if (readsBoxes) {
      report(
        `\`${layer.op}\` reads the boxes \`${readsBoxes.name}\` [K, 5] directly; only \`roi_align\` reads boxes`,
        layer,
        `pool per-box features with \`[features, ${readsBoxes.name}] -> roi_align(...)\``,
      );
      continue;
    }
    const kinds = new Set(inputs.map((l) => rows.get(l.id)));
    if (kinds.size > 1) {
      const perBox = inputs.find((l) => rows.get(l.id) === "boxes")!;
      const perClip = inputs.find((l) => rows.get(l.id) === "clips")!;
      report(
        `\`${layer.op}\` combines \`${perBox.name}\`, one row per box [K, ...], with \`${perClip.name}\`, one row per clip [N, ...]: the boxes are not the batch`,
        layer,
        "pool the clip features per box with `roi_align` first (as PySlowFast's ResNetRoIHead does for each pathway)",
      );
    }
  }
};
