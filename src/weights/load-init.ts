/**
 * Source weights for a spec from disk: a tfjs LayersModel directory (a vnet run or checkpoint
 * directory, or any model.json + weights) read and mapped by name onto the spec's lowered graph,
 * for `vnet inflate` (2D weights inflated) and `vnet train --init` (weights of the same or a
 * compatible network). An unreadable checkpoint is a VN100 diagnostic on the path.
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { mapWeightsByName, type WeightMapping } from "./by-name.js";
import { readWeights } from "./checkpoint.js";
import type { WeightStore } from "./store.js";
import { CheckpointError } from "./tensors.js";
import { VnetError } from "../diagnostics/error.js";

export interface LoadedMapping {
  /** The directory the weights were read from. */
  readonly directory: string;
  /** The model name in its model.json. */
  readonly model: string | undefined;
  readonly mapping: WeightMapping;
}

/** A diagnostic about a weights file itself (no spec location): located at its path. */
export function fileDiagnostic(file: string, code: string, message: string, hint?: string): Diagnostic {
  return { code, severity: "error", message, file, range: { start: 0, end: 0 }, ...(hint ? { hint } : {}) };
}

/**
 * Reads a checkpoint and maps it onto `graph` (the network's lowered graph); an unreadable one
 * gives a diagnostic instead.
 */
export async function loadWeightsByName(
  location: string,
  network: CheckedNetwork,
  graph: IrGraph,
  options: { inflate: boolean; partial: boolean },
): Promise<LoadedMapping | Diagnostic> {
  let store: WeightStore;
  try {
    store = await readWeights(location);
  } catch (error) {
    if (error instanceof CheckpointError)
      return fileDiagnostic(location, "VN100", error.message, "pass a run directory, its checkpoint/ directory, or a directory with a tfjs model.json");
    if (error instanceof VnetError)
      return fileDiagnostic(
        location,
        error.code,
        error.message,
        error.hint ?? "pass a run directory, its checkpoint/ directory, or a directory with a tfjs model.json",
      );
    throw error;
  }
  const directory = store.directory!;
  const source = options.inflate ? `the 2D weights in ${directory}` : `the --init weights in ${directory}`;
  const mapping = mapWeightsByName(graph, store.weights, {
    inflate: options.inflate,
    partial: options.partial,
    at: { file: network.file, range: network.range },
    source,
  });
  return { directory, model: store.model, mapping };
}
