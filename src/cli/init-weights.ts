/**
 * `vnet train --init <ckpt> [--partial]`: the starting weights of a new run, from inflated (or any
 * compatible) weights. Every weight whose name and shape match is loaded; weights the checkpoint
 * lacks stay at their initialisers (warned); a weight whose shape differs is an error unless
 * `--partial` says a partial start is intended (then it stays at its initialiser, warned); a
 * checkpoint none of whose weights fits is an error. Prints the counts and diagnostics before
 * training starts.
 */
import type * as tf from "@tensorflow/tfjs";
import type { IrGraph } from "../ir/graph.js";
import { loadWeightsByName } from "../weights/load-init.js";
import { reportCounts } from "../weights/report.js";
import { assignWeights } from "../weights/tensors.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { renderAgainst } from "./weight-tools.js";

/** What sets the starting weights of the freshly built model, or the exit code when the checkpoint does not fit. */
export async function initialWeights(
  location: string,
  network: CheckedNetwork,
  graph: IrGraph,
  partial: boolean,
  out: (s: string) => void,
  color: boolean,
): Promise<((model: tf.LayersModel) => void) | number> {
  const loaded = await loadWeightsByName(location, network, graph, { inflate: false, partial });
  if (!("mapping" in loaded)) {
    out(renderAgainst(network.file, [loaded], color));
    return 1;
  }
  const { report, weights } = loaded.mapping;
  if (report.diagnostics.length) out(renderAgainst(network.file, report.diagnostics, color));
  if (report.diagnostics.some((d) => d.severity === "error")) return 1;
  out(`initial weights from ${loaded.directory}: ${reportCounts(report)}`);
  return (model) => assignWeights(model, weights);
}
