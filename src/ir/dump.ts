/**
 * A stable text form of an IR graph, one node per line, for golden tests and `--dump-ir`:
 *   #12 layer1.0.conv1.conv3d = conv3d(filters=64, kernel=[3,3,3], ...) <- #11 : [16, 56, 56, 64] NTHWC  {kernel [3,3,3,64,64]}
 */
import type { ArgValue } from "../ops/values.js";
import type { IrGraph, IrNode } from "./graph.js";

/** Renders a graph (and nested per_frame bodies, indented) as text. */
export function dumpIr(graph: IrGraph, indent = ""): string {
  const lines = [`${indent}graph ${graph.name} (${graph.passes.length ? graph.passes.join(", ") : "unlowered"})`];
  lines.push(`${indent}  inputs: ${graph.inputs.map((i) => `${i.name} #${i.node} [${i.shape.join(", ")}]`).join("; ")}`);
  for (const node of graph.nodes) {
    lines.push(`${indent}  ${dumpNode(node)}`);
    if (node.body) lines.push(dumpIr(node.body, `${indent}    `));
  }
  lines.push(`${indent}  outputs: ${graph.outputs.map((o) => `#${o}`).join(", ")}`);
  return lines.join("\n");
}

function dumpNode(node: IrNode): string {
  const args = Object.entries(node.args)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatArg(v!)}`)
    .join(", ");
  const inputs = node.inputs.length ? ` <- ${node.inputs.map((i) => `#${i}`).join(", ")}` : "";
  const weights = node.weights?.length ? `  {${node.weights.map((w) => `${w.role} [${w.shape.join(",")}]${w.trainable ? "" : " fixed"}`).join("; ")}}` : "";
  const frozen = node.frozen ? " frozen" : "";
  return `#${node.id} ${node.name} = ${node.op}(${args})${inputs} : [${node.shape.join(", ")}]${node.layout ? ` ${node.layout}` : ""}${frozen}${weights}`;
}

function formatArg(value: ArgValue): string {
  if (Array.isArray(value)) return `[${value.map(formatArg).join(",")}]`;
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
