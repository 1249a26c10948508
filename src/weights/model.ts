/**
 * A tfjs model with given weights: the spec's own lowered graph, built, with every declared weight
 * put in by name (`storedWeightName`). This is how a trained model is made for evaluation,
 * prediction, export verification and resuming, whichever engine wrote the weights and whatever
 * topology a checkpoint's model.json happens to hold.
 */
import type * as tf from "@tensorflow/tfjs";
import { emitTfjs } from "../backends/tfjs/emit.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import { checkWeights, declaredWeights, storedWeightName, type WeightSource } from "../ir/weights.js";
import { WeightStore } from "./store.js";
import type { NamedTensors, Tensor } from "../runtime/checkpoint.js";
import { assignWeights } from "./tensors.js";

/**
 * The tfjs model of a lowered graph with the source's weights, or the located diagnostics (VN082)
 * saying which weights the source lacks or holds with another shape: weights of another spec.
 */
export function modelWithWeights(
  graph: IrGraph,
  source: WeightSource,
): { model: tf.LayersModel; diagnostics: readonly Diagnostic[] } | { model?: undefined; diagnostics: readonly Diagnostic[] } {
  const mismatched = checkWeights(graph, source, "load");
  if (mismatched.length) return { diagnostics: mismatched };
  const built = emitTfjs(graph, { zeroInit: true });
  if (!built.model) return { diagnostics: built.diagnostics };
  const weights = new Map<string, Tensor>();
  for (const { decl } of declaredWeights(graph)) weights.set(storedWeightName(decl), { shape: decl.shape, values: source.read(decl) });
  assignWeights(built.model, weights);
  return { model: built.model, diagnostics: [] };
}

/** The graph's model with a checkpoint directory's weights; throws with the mismatches (a resumed run of another spec). */
export async function modelFromCheckpoint(graph: IrGraph, directory: string): Promise<tf.LayersModel> {
  const built = modelWithWeights(graph, await WeightStore.readDirectory(directory));
  if (!built.model) throw new Error(`the checkpoint in ${directory} does not fit ${graph.name}: ${built.diagnostics.map((d) => d.message).join("; ")}`);
  return built.model;
}

/**
 * A freshly initialised model of the graph (seeded) with `weights` put in by name: what the
 * weight tools write (an import or an inflation leaves unmapped weights at their initialisers) and
 * check. A weight of another shape than the graph declares is a string saying which.
 */
export function freshModelWith(graph: IrGraph, weights: NamedTensors, seed: number): tf.LayersModel | string {
  const declared = new Map([...declaredWeights(graph)].map(({ node, decl }) => [storedWeightName(decl), { node, decl }]));
  for (const [name, tensor] of weights) {
    const slot = declared.get(name);
    if (!slot) return `${graph.name} has no weight ${name}`;
    if (slot.decl.shape.join() !== tensor.shape.join())
      return `layer \`${slot.node.name}\` needs ${name} as [${slot.decl.shape.join(", ")}], not [${tensor.shape.join(", ")}]`;
  }
  const built = emitTfjs(graph, { seed });
  if (!built.model) return built.diagnostics.map((d) => d.message).join("; ");
  assignWeights(built.model, weights);
  return built.model;
}
