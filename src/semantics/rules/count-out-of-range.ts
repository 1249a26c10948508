/**
 * VN015 out-of-range, for counts: a network whose parameter, state or MAC count passes 2^53 would
 * be summarized with rounded numbers (a float64 counts exactly only up to there), and is far beyond
 * any model that can be built. The first layer that passes the limit alone is reported where it is
 * written; otherwise the network, whose totals pass it.
 */
import { allLayers, totals } from "../network.js";
import type { NetworkGraphRule } from "../context.js";

const HINT = "counts above 2^53 (about 9.0e15) cannot be computed exactly; use smaller widths, kernels or inputs";

/** The first of a layer's or a network's counts past 2^53, named as the message says it. */
function countOver(params: number, state: number, macs: number): readonly [string, number] | undefined {
  const counts = [
    ["parameters", params],
    ["state values", state],
    ["MACs", macs],
  ] as const;
  return counts.find(([, n]) => n > Number.MAX_SAFE_INTEGER);
}

export const countOutOfRangeRule: NetworkGraphRule = (context, network, { decl, module }) => {
  for (const { layer } of allLayers(network.layers)) {
    const over = countOver(layer.params, layer.state, layer.macs);
    if (!over) continue;
    context.report(
      "VN015",
      "error",
      `\`${layer.op}\` has ${over[1].toExponential(2)} ${over[0]}, more than can be counted exactly`,
      layer.origin.file,
      layer.origin.range,
      { hint: HINT },
    );
    return;
  }
  const t = totals(network);
  const over = countOver(t.trainable + t.frozen, t.state, t.macs);
  if (!over) return;
  context.report(
    "VN015",
    "error",
    `network \`${network.name}\` has ${over[1].toExponential(2)} ${over[0]}, more than can be counted exactly`,
    module.file,
    decl.name.range,
    { hint: HINT },
  );
};
