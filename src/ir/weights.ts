/**
 * The contract between a graph's declared weights and whatever holds their values: a
 * `WeightSource` gives the channels-last values of each `WeightDecl` (vnet's weight store,
 * src/weights, fills one from a checkpoint, a fresh model or an import), and `checkWeights`
 * says, at the layer that declares it, which weight a source lacks or holds with another shape.
 * Every backend that takes weights (ONNX export, tfjs models loaded for evaluation, prediction
 * or resuming) checks through here, so a checkpoint of another spec is one kind of error. A
 * weight is stored (in checkpoints, and as tfjs variables) under `storedWeightName`.
 */
import type { Code } from "../diagnostics/codes.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IrGraph, IrNode, WeightDecl } from "./graph.js";

/** Diagnostic code for weights that do not fit the spec. */
export const WEIGHTS_MISMATCH: Code = "VN082";

/** Channels-last weight values by IR weight, or why there are none. */
export interface WeightSource {
  /** Where the weights come from, for messages (`checkpoint runs/a/checkpoint`). */
  readonly description: string;
  /** The weight's shape in the source, or undefined when the source lacks it. */
  shapeOf(decl: WeightDecl): readonly number[] | undefined;
  /** The weight's values (row-major, the declared channels-last shape). */
  read(decl: WeightDecl): Float32Array;
}

/**
 * The name a weight is stored under: its layer's name, "/", its role (`layer2.0.conv1.conv3d/kernel`),
 * as tfjs names a layer's variables and vnet's checkpoints (model.json + weights.bin) keep them.
 */
export function storedWeightName(weight: WeightDecl): string {
  return `${weight.name.slice(0, weight.name.length - weight.role.length - 1)}/${weight.role}`;
}

/** Every node of a graph with weights, nested bodies included, in graph order. */
export function* weightedNodes(graph: IrGraph): Generator<IrNode> {
  for (const node of graph.nodes) {
    if (node.weights?.length) yield node;
    if (node.body) yield* weightedNodes(node.body);
  }
}

/** Every declared weight of a graph, nested bodies included, with the node declaring it. */
export function* declaredWeights(graph: IrGraph): Generator<{ node: IrNode; decl: WeightDecl }> {
  for (const node of weightedNodes(graph)) for (const decl of node.weights!) yield { node, decl };
}

/**
 * Every declared weight the source lacks or holds with another shape, at the layer declaring it.
 * `action` is what was being done with them ("export", "load"), for the message.
 */
export function checkWeights(graph: IrGraph, source: WeightSource, action = "export"): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const { node, decl } of declaredWeights(graph)) {
    const shape = source.shapeOf(decl);
    if (shape && shape.join() === decl.shape.join()) continue;
    const problem = shape ? `has it as [${shape.join(", ")}], the spec declares [${decl.shape.join(", ")}]` : "has no such weight";
    diagnostics.push({
      code: WEIGHTS_MISMATCH,
      severity: "error",
      message: `cannot ${action} weight \`${decl.name}\` of layer \`${node.name}\`: ${source.description} ${problem}`,
      file: node.origin.file,
      range: node.origin.range,
      hint: `${action} with the spec the weights were trained from`,
    });
  }
  return diagnostics;
}
