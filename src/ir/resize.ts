/**
 * A spec's graph rebuilt at other input shapes (another clip length or frame size, the same rank):
 * the entry network re-checked with its inputs resized (`InputResize`, src/semantics/check.ts)
 * and lowered again. Weights do not depend on the clip's length, so this is how `vnet weights
 * import` compares a file exported at its own clip and how `--verify` compares an export at a
 * shorter clip. A `sampling` section written for the declared clip may disagree with the new one
 * (VN061); that does not matter here and is not an error.
 */
import type { Shape } from "../ops/values.js";
import { checkFiles } from "../semantics/check.js";
import type { IrGraph } from "./graph.js";
import { lowerNetwork } from "./pipeline.js";
import { declaredWeights } from "./weights.js";

/**
 * The lowered graph of `graph`'s network with the given inputs' shapes (by input name), or why
 * the spec does not check at them. `sources` are the checked texts by file (read from disk when absent).
 */
export function lowerAtInputs(graph: IrGraph, inputs: ReadonlyMap<string, Shape>, sources?: ReadonlyMap<string, string>): IrGraph | string {
  const host = sources ? { readFile: (file: string) => sources.get(file) } : undefined;
  const result = checkFiles([graph.file], { resize: { network: graph.name, inputs }, ...(host ? { host } : {}) });
  const errors = result.diagnostics.filter((d) => d.severity === "error" && d.code !== "VN061");
  const network = result.networks.find((n) => n.name === graph.name);
  if (errors.length || !network) return errors[0]?.message ?? `no network ${graph.name}`;
  return lowerNetwork(network);
}

/** The graph's declared weights, names and shapes, as one comparable string. */
export function weightSignature(graph: IrGraph): string {
  return [...declaredWeights(graph)].map(({ decl }) => `${decl.name}:${decl.shape.join("x")}`).join();
}
