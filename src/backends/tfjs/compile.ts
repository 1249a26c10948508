/**
 * From a checked network to a tfjs model: the IR pipeline, then the tfjs emitter.
 */
import type { CheckedNetwork } from "../../semantics/network.js";
import type { IrGraph } from "../../ir/graph.js";
import { lowerNetwork, type PipelineOptions } from "../../ir/pipeline.js";
import { emitTfjs, type TfjsEmitOptions, type TfjsEmitResult } from "./emit.js";
import "./registry.js";

export interface TfjsCompileResult extends TfjsEmitResult {
  /** The lowered IR the model was built from (weight names, layouts, origins). */
  readonly graph: IrGraph;
}

/** Lowers a checked network and builds its tfjs LayersModel (or diagnostics saying why not). */
export function compileToTfjs(network: CheckedNetwork, options: TfjsEmitOptions & PipelineOptions = {}): TfjsCompileResult {
  const graph = lowerNetwork(network, options);
  return { graph, ...emitTfjs(graph, options) };
}
