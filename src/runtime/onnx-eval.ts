/**
 * Trained weights run in ONNX Runtime for `vnet eval` and `vnet predict <spec>`: the spec's graph
 * exported to ONNX in memory with the stored weights (either engine's checkpoint, by weight
 * name), exactly as `vnet export` writes it, and a scorer of loaded views that feeds it the raw
 * clips and the optical-flow fields (`namedFeeds`). No tfjs model is built.
 */
import { exportOnnx, type OnnxExportResult, type WeightSource } from "../backends/onnx/index.js";
import type { FlowStream } from "../data/flow.js";
import type { IrGraph } from "../ir/graph.js";
import type { ViewScorer } from "./engines/engine.js";
import { loadOnnxModel, runOnnx, type OnnxModel, type OnnxProvider } from "./onnx.js";
import { namedFeeds } from "./streams.js";

export interface CheckpointOnnx {
  readonly model: OnnxModel;
  readonly flows: readonly FlowStream[];
  readonly export: OnnxExportResult;
}

/**
 * The graph with `weights` as an ONNX Runtime session, or the export's diagnostics when the
 * network does not export (the caller falls back to tfjs). `sources` are the checked spec texts.
 */
export async function checkpointOnnx(
  graph: IrGraph,
  weights: WeightSource,
  options: { sources: ReadonlyMap<string, string>; flows: readonly FlowStream[]; provider?: OnnxProvider },
): Promise<CheckpointOnnx | OnnxExportResult> {
  const exported = exportOnnx(graph, { weights, sources: options.sources });
  if (!exported.bytes) return exported;
  const model = await loadOnnxModel(exported.bytes, { provider: options.provider ?? "auto" });
  return { model, flows: options.flows, export: exported };
}

/** Scores loaded views with an exported model: its own output (`logits` or `probabilities`, as the network ends). */
export function onnxScorer(loaded: CheckpointOnnx): ViewScorer {
  return async (parts) => {
    const scores = await runOnnx(loaded.model, namedFeeds(loaded.export.inputs, parts, loaded.flows));
    const output = scores[loaded.model.modelOutput];
    return { values: output.data, classes: output.shape[1]! };
  };
}
