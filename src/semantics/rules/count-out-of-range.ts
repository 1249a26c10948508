/**
 * VN015 out-of-range, for counts: a network whose parameter, state or MAC count passes 2^53 would
 * be summarized with rounded numbers (a float64 counts exactly only up to there), and is far beyond
 * any model that can be built. The first layer that passes the limit alone is reported where it is
 * written; otherwise the network, whose totals pass it.
 */
import { allLayers, totals } from "../network.js";
import type { NetworkGraphRule } from "../context.js";

const HINT = "counts above 2^53 (about 9.0e15) cannot be computed exactly; use smaller widths, kernels or inputs";

export const countOutOfRangeRule: NetworkGraphRule = (context, network, { decl, module }) => {
  const limit = Number.MAX_SAFE_INTEGER;
  for (const { layer } of allLayers(network.layers)) {
    const what = layer.params > limit ? "parameters" : layer.state > limit ? "state values" : layer.macs > limit ? "MACs" : undefined;
    if (!what) continue;
    const count = what === "parameters" ? layer.params : what === "MACs" ? layer.macs : layer.state;
    context.report(
      "VN015",
      "error",
      `\`${layer.op}\` has ${count.toExponential(2)} ${what}, more than can be counted exactly`,
      layer.origin.file,
      layer.origin.range,
      { hint: HINT },
    );
    return;
  }
  const t = totals(network);
  const over = (
    [
      ["parameters", t.trainable + t.frozen],
      ["state values", t.state],
      ["MACs", t.macs],
    ] as const
  ).find(([, n]) => n > limit);
  if (!over) return;
  context.report(
    "VN015",
    "error",
    `network \`${network.name}\` has ${over[1].toExponential(2)} ${over[0]}, more than can be counted exactly`,
    module.file,
    decl.name.range,
    {
      hint: HINT,
    },
  );
};
