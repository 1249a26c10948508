/**
 * Trained weights run in ONNX Runtime for `vnet eval` and `vnet predict <spec>`: the checkpoint
 * (either engine's) exported to ONNX in memory, exactly as `vnet export` writes it, and a scorer
 * of loaded views that feeds it the raw clips and the optical-flow fields. No tfjs model is built.
 */
import { exportOnnx, type OnnxExportResult } from "../backends/onnx/index.js";
import type { FlowStream } from "../data/flow.js";
import { mergeViews, type ClipGeometry } from "../data/views.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { checkpointWeightSource, type NamedTensors } from "./checkpoint.js";
import type { ViewScorer } from "./engines/engine.js";
import { feedPlan, viewFeeds, type FeedPlan } from "./onnx-feeds.js";
import { loadOnnxModel, runOnnx, type OnnxModel, type OnnxProvider } from "./onnx.js";

export interface CheckpointOnnx {
  readonly model: OnnxModel;
  readonly plan: FeedPlan;
  readonly export: OnnxExportResult;
}

/**
 * A checkpoint's weights (model-io.ts `checkTrainedWeights`: read from `dir` and checked against
 * the spec) as an ONNX Runtime session, or the export's diagnostics when the network does not
 * export (the caller falls back to tfjs). `sources` are the checked spec texts.
 */
export async function checkpointOnnx(network: CheckedNetwork, trained: { readonly dir: string; readonly weights: NamedTensors }, options: { sources: ReadonlyMap<string, string>; flows: readonly FlowStream[]; provider?: OnnxProvider }): Promise<CheckpointOnnx | OnnxExportResult> {
  const exported = exportOnnx(network, { weights: checkpointWeightSource(trained.weights, `checkpoint ${trained.dir}`), sources: options.sources });
  if (!exported.bytes) return exported;
  const model = await loadOnnxModel(exported.bytes, { provider: options.provider ?? "auto" });
  return { model, plan: feedPlan(network, exported.inputs, options.flows), export: exported };
}

/** Scores loaded views with an exported model: its own output (`logits` or `probabilities`, as the network ends). */
export function onnxScorer(loaded: CheckpointOnnx, geometry: ClipGeometry): ViewScorer {
  return async (parts) => {
    const views = mergeViews(parts);
    const scores = await runOnnx(loaded.model, viewFeeds(loaded.plan, views, geometry));
    const output = scores[loaded.model.modelOutput];
    return { values: output.data, classes: output.shape[1]! };
  };
}
