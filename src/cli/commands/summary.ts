/** `vnet summary <spec>`: the per-layer table of a network (shapes, parameters, MACs) and its totals. */
import * as path from "node:path";
import { checkFiles } from "../../semantics/check.js";
import { formatSummary, summarize } from "../../semantics/summary.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { NETWORK_FLAG } from "../flags.js";
import { expandSpecPaths, renderDiagnostics } from "../util.js";

export const command = defineCommand({
  name: "summary",
  usage: "summary <spec> [--network NAME] [--format text|json]",
  description: "Prints every layer of the spec's networks (output shape, parameters, MACs) and the totals.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    network: NETWORK_FLAG,
    format: { type: "choice", choices: ["text", "json"], default: "text", doc: "output format" },
  },
  run({ positional, flags }, { out, color }) {
    const file = expandSpecPaths(positional)[0];
    if (file === undefined) throw new UsageError(`${positional[0]} holds no .vnet file`);
    const result = checkFiles([file]);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    if (errors.length) {
      out(renderDiagnostics(errors, result, color));
      return 1;
    }
    const wanted = flags.network;
    const networks = result.networks.filter((n) => path.resolve(n.file) === path.resolve(file) && (wanted === undefined || n.name === wanted));
    if (networks.length === 0) throw new UsageError(wanted !== undefined ? `no network \`${wanted}\` in ${file}` : `${file} defines no network`);
    const summaries = networks.map(summarize);
    if (flags.format === "json") out(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2));
    else out(summaries.map(formatSummary).join("\n\n"));
    return 0;
  },
});
