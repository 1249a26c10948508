/**
 * Trained weights run in ONNX Runtime for `vnet eval` and `vnet predict <spec>`: the spec's graph
 * exported to ONNX in memory with the stored weights (either engine's checkpoint, by weight
 * name), exactly as `vnet export` writes it, and a scorer of loaded views that feeds it the raw
 * clips and the optical-flow fields (`namedFeeds`). No tfjs model is built.
 */
import * as ort from "onnxruntime-node";
import { exportOnnx, type OnnxExportResult, type WeightSource } from "../backends/onnx/index.js";
import type { FlowStream } from "../data/flow.js";
import type { IrGraph } from "../ir/graph.js";
import type { TaskInference, ViewScorer } from "./engines/engine.js";
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

/** A localizer's exported model as a TaskInference: the inputs by the export's input names, every output in the model's (the contract's) order, channels-last. */
export function onnxInference(loaded: CheckpointOnnx): TaskInference {
  const session = loaded.model.session;
  return async (inputs) => {
    const feeds = Object.fromEntries(loaded.export.inputs.map((input, i) => [input.name, new ort.Tensor("float32", inputs[i]!.data, [...inputs[i]!.shape])]));
    const results = await session.run(feeds);
    return session.outputNames.map((name) => ({ data: results[name]!.data as Float32Array, shape: [...results[name]!.dims] }));
  };
}
