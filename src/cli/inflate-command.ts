/**
 * `vnet inflate <3d-spec> --from <2d-checkpoint> -o <dir>`: the weights half of I3D inflation.
 * The spec's `inflate` statement made the 3D network; this command applies its rules to trained
 * 2D weights (a vnet run/checkpoint directory or any tfjs LayersModel directory) and writes the
 * 3D model, ready for `vnet train --init` or `vnet eval --weights`. `--dry-run` lists every
 * tensor (mapped, reshaped or left at its initialiser, with the reason) and writes nothing.
 * Loaded on demand by the CLI.
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { loadWeightsByName } from "../weights/load-init.js";
import { assignWeights } from "../weights/tensors.js";
import { loadNetwork, parseFlags, type RunCommandHooks } from "./train-command.js";
import { buildTarget, renderAgainst, showMapping, writeModel } from "./weight-tools.js";

const VALUED = ["-o", "--out", "--from", "--network", "--backend", "--seed"];

/** Runs `vnet inflate`; returns the exit code (0 written or dry run clean, 1 errors, 2 usage). */
export async function inflateCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values, set } = parseFlags(args, VALUED, ["--dry-run", "--partial"], "inflate", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet inflate takes one spec file: vnet inflate <3d-spec> --from <2d-checkpoint> -o <dir>");
  const from = values.get("--from");
  if (!from) throw hooks.usage("vnet inflate needs the 2D weights: --from <run-dir | checkpoint dir | tfjs model dir>");
  const target = values.get("--out");
  const dryRun = set.has("--dry-run");
  if (!target && !dryRun) throw hooks.usage("vnet inflate needs an output directory: -o <dir> (or --dry-run)");
  const network = loadNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const spec = hooks.expand([positional[0]!])[0]!;
  if (!network.inflatedFrom) {
    const diagnostic: Diagnostic = { code: "VN107", severity: "error", message: `${network.name} is not inflated from a 2D network, so there are no inflation rules to apply`, file: network.file, range: network.range, hint: "give the network an `inflate <2d-network> { ... }` statement, or load weights of the same network with vnet train --init" };
    out(renderAgainst(spec, [diagnostic], hooks));
    return 1;
  }
  const built = await buildTarget(network, spec, values, out, hooks);
  if (typeof built === "number") return built;
  const { model, graph } = built;
  try {
    const loaded = await loadWeightsByName(from, network, graph, { inflate: true, partial: set.has("--partial") });
    if (!("mapping" in loaded)) {
      out(renderAgainst(spec, [loaded], hooks));
      return 1;
    }
    const { mapping } = loaded;
    const savedAs = loaded.model && loaded.model !== network.inflatedFrom ? ` (saved as ${loaded.model})` : "";
    out(`inflating ${network.inflatedFrom} weights from ${loaded.directory}${savedAs} into ${network.name}`);
    const next = showMapping(network, spec, mapping.report, [], dryRun, out, hooks);
    if (next !== "write") return next === "errors" ? 1 : 0;
    assignWeights(model, mapping.weights);
    await writeModel(model, target!, out);
    return 0;
  } finally {
    model.dispose();
  }
}
