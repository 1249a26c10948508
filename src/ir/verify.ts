/**
 * The IR verifier: checks the invariants every pass must keep. Tests run it after every pass; a
 * problem here is a compiler bug, never a user error, so it reports plain messages rather than
 * diagnostics. Invariants: unique ids and names, inputs defined before use, known operators with
 * the right number of inputs, shapes equal to what the operator table derives, composites and
 * per_frame gone once their pass ran, and declared weights that add up to the checker's counts.
 */
import type { IrGraph, IrNode } from "./graph.js";
import { weightTotals } from "./graph.js";
import { IR_OPS } from "./ops.js";
import { ANNOTATE_LAYOUT, layoutFor } from "./passes/annotate-layout.js";
import { DECLARE_WEIGHTS } from "./passes/declare-weights.js";

/** Dot-separated identifiers and numbers, as the checker makes them (backends may be stricter). */
const VALID_NAME = /^[A-Za-z0-9_][-A-Za-z0-9._]*$/;

/** Returns every broken invariant as a message; an empty list means the graph is well formed. */
export function verifyIr(graph: IrGraph): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  verifyGraph(graph, graph.passes, ids, problems, "");
  if (graph.passes.includes(DECLARE_WEIGHTS)) {
    const totals = weightTotals(graph);
    if (totals.trainable !== graph.expected.trainable)
      problems.push(`declared trainable weights total ${totals.trainable}, the checker counted ${graph.expected.trainable}`);
    if (totals.frozen !== graph.expected.frozen) problems.push(`declared frozen weights total ${totals.frozen}, the checker counted ${graph.expected.frozen}`);
  }
  return problems;
}

function verifyGraph(graph: IrGraph, passes: readonly string[], ids: Set<number>, problems: string[], where: string): void {
  const shapes = new Map<number, readonly number[]>();
  const names = new Set<string>();
  const weightNames = new Set<string>();
  const report = (node: IrNode, message: string) => problems.push(`${where}${node.name} (${node.op}, #${node.id}): ${message}`);
  for (const node of graph.nodes) {
    if (ids.has(node.id)) report(node, "duplicate id");
    ids.add(node.id);
    if (names.has(node.name)) report(node, "duplicate name");
    names.add(node.name);
    if (!VALID_NAME.test(node.name)) report(node, "name is not dot-separated identifiers");
    const def = IR_OPS.get(node.op);
    if (!def) {
      report(node, "unknown operator");
      continue;
    }
    if (def.removedBy && passes.includes(def.removedBy)) report(node, `should have been removed by ${def.removedBy}`);
    const arityOk = def.inputs === "many" ? node.inputs.length >= 2 : node.inputs.length === def.inputs;
    if (!arityOk) report(node, `has ${node.inputs.length} inputs, expected ${def.inputs}`);
    const inputShapes = node.inputs.map((i) => shapes.get(i));
    if (inputShapes.some((s) => s === undefined)) {
      report(node, `reads a node that is not defined before it (${node.inputs.join(", ")})`);
      shapes.set(node.id, node.shape);
      continue;
    }
    const derived = deriveShape(node, inputShapes as (readonly number[])[], passes, ids, problems, `${where}${node.name}/`);
    if (typeof derived === "string") report(node, `shape rule fails: ${derived}`);
    else if (derived.join() !== node.shape.join()) report(node, `shape [${node.shape.join(", ")}] but its inputs give [${derived.join(", ")}]`);
    shapes.set(node.id, node.shape);
    if (passes.includes(DECLARE_WEIGHTS)) {
      if (!node.weights) report(node, "has no weight declaration");
      for (const w of node.weights ?? []) {
        if (weightNames.has(w.name)) report(node, `duplicate weight name ${w.name}`);
        weightNames.add(w.name);
        if (node.frozen && w.trainable) report(node, `weight ${w.name} of a frozen node is trainable`);
      }
    }
    if (
      passes.includes(ANNOTATE_LAYOUT) &&
      node.layout &&
      !(node.layout === layoutFor(node.shape.length, false) || node.layout === layoutFor(node.shape.length, true))
    ) {
      report(node, `layout ${node.layout} does not fit rank ${node.shape.length}`);
    }
  }
  for (const input of graph.inputs) {
    const node = graph.nodes.find((n) => n.id === input.node);
    if (!node || node.op !== "input") problems.push(`${where}graph input ${input.name} is not an input node`);
    else if (node.shape.join() !== input.shape.join())
      problems.push(`${where}graph input ${input.name} has shape [${input.shape.join(", ")}] but its node [${node.shape.join(", ")}]`);
  }
  for (const node of graph.nodes) {
    if (node.op === "input" && !graph.inputs.some((i) => i.node === node.id)) problems.push(`${where}input node ${node.name} is not a graph input`);
  }
  for (const output of graph.outputs) if (!shapes.has(output)) problems.push(`${where}graph output #${output} is not a node`);
}

function deriveShape(
  node: IrNode,
  inputs: readonly (readonly number[])[],
  passes: readonly string[],
  ids: Set<number>,
  problems: string[],
  where: string,
): readonly number[] | string {
  if (node.op === "input") return node.shape;
  if (node.op === "per_frame") {
    if (!node.body) return "per_frame without a body";
    verifyGraph(node.body, passes, ids, problems, where);
    const output = node.body.nodes.find((n) => n.id === node.body!.outputs[0]);
    if (!output) return "body has no output";
    return [inputs[0]![0]!, ...output.shape];
  }
  return IR_OPS.get(node.op)!.shape!(inputs, node.args);
}
