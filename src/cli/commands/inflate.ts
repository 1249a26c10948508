/**
 * `vnet inflate <3d-spec> --from <2d-checkpoint> -o <dir>`: the weights half of I3D inflation.
 * The spec's `inflate` statement made the 3D network; this command applies its rules to trained
 * 2D weights (a vnet run/checkpoint directory or any tfjs LayersModel directory) and writes the
 * 3D model, ready for `vnet train --init` or `vnet eval --weights`. `--dry-run` lists every
 * tensor (mapped, reshaped or left at its initialiser, with the reason) and writes nothing.
 */
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { loadWeightsByName } from "../../weights/load-init.js";
import { freshModelWith } from "../../weights/model.js";
import { UsageError } from "../args.js";
import { checkModelDirectory, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { checkRunnableNetwork, startBackend } from "../run-util.js";
import { renderAgainst, showMapping, writeModel } from "../weight-tools.js";

export const command = defineCommand({
  name: "inflate",
  usage: "inflate <3d-spec> --from <2d-ckpt> -o <dir> [--dry-run] [--partial] [--seed N]",
  description:
    "Inflates trained 2D weights by the spec's `inflate` rules and writes the 3D model (for train --init or eval --weights). --dry-run lists every tensor and writes nothing.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    from: { type: "string", value: "DIR", doc: "the 2D weights: a run, checkpoint or tfjs model directory" },
    out: { type: "string", alias: "-o", value: "DIR", doc: "the directory to write the 3D model to" },
    dryRun: { type: "switch", doc: "list every tensor and write nothing" },
    partial: { type: "switch", doc: "leave weights that do not fit at their initialisers (warned)" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    seed: SEED_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    const from = flags.from;
    if (!from) throw new UsageError("vnet inflate needs the 2D weights: --from <run-dir | checkpoint dir | tfjs model dir>");
    const target = flags.out;
    if (!target && !flags.dryRun) throw new UsageError("vnet inflate needs an output directory: -o <dir> (or --dry-run)");
    const checked = checkRunnableNetwork(positional[0]!, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const { network, file: spec } = checked;
    if (target)
      checkModelDirectory("-o", target, [...specInputs(checked.result.program.modules.keys(), spec), { path: from, what: "the 2D weights (--from)" }]);
    if (!network.inflatedFrom) {
      const diagnostic: Diagnostic = {
        code: "VN107",
        severity: "error",
        message: `${network.name} is not inflated from a 2D network, so there are no inflation rules to apply`,
        file: network.file,
        range: network.range,
        hint: "give the network an `inflate <2d-network> { ... }` statement, or load weights of the same network with vnet train --init",
      };
      out(renderAgainst(spec, [diagnostic], color));
      return 1;
    }
    const { graph } = checked;
    await startBackend(flags.backend, out, false);
    const loaded = await loadWeightsByName(from, network, graph, { inflate: true, partial: flags.partial });
    if (!("mapping" in loaded)) {
      out(renderAgainst(spec, [loaded], color));
      return 1;
    }
    const { mapping } = loaded;
    const savedAs = loaded.model && loaded.model !== network.inflatedFrom ? ` (saved as ${loaded.model})` : "";
    out(`inflating ${network.inflatedFrom} weights from ${loaded.directory}${savedAs} into ${network.name}`);
    const next = showMapping(network, spec, mapping.report, [], flags.dryRun, out, color);
    if (next !== "write") return next === "errors" ? 1 : 0;
    const model = freshModelWith(graph, mapping.weights, flags.seed ?? 0);
    if (typeof model === "string") throw new Error(`internal: the inflated weights do not fit ${network.name}: ${model}`);
    try {
      await writeModel(model, target!, out);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
