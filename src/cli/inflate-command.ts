/**
 * `vnet inflate <3d-spec> --from <2d-checkpoint> -o <dir>`: the weights half of I3D inflation.
 * The spec's `inflate` statement made the 3D network; this command applies its rules to trained
 * 2D weights (a vnet run/checkpoint directory or any tfjs LayersModel directory) and writes the
 * 3D model, ready for `vnet train --init` or `vnet eval --weights`. `--dry-run` lists every
 * tensor (mapped, reshaped or left at its initialiser, with the reason) and writes nothing.
 * Loaded on demand by the CLI.
 */
import * as path from "node:path";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { saveModel } from "../runtime/model-io.js";
import { loadWeightsByName } from "../runtime/weights/load-init.js";
import { formatWeightReport, reportCounts } from "../runtime/weights/report.js";
import { assignWeights } from "../runtime/weights/tensors.js";
import { checkFiles } from "../semantics/check.js";
import { loadNetwork, numberFlag, parseFlags, startBackend, type RunCommandHooks } from "./train-command.js";

const VALUED = ["-o", "--out", "--from", "--network", "--backend", "--seed"];

/** Renders diagnostics against the spec's files (and, for weights files, without a code frame). */
export function renderAgainst(spec: string, diagnostics: readonly Diagnostic[], hooks: RunCommandHooks): string {
  return hooks.render(diagnostics, checkFiles([spec]));
}

/** Runs `vnet inflate`; returns the exit code (0 written or dry run clean, 1 errors, 2 usage). */
export async function inflateCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values, set } = parseFlags(args, VALUED, ["--dry-run", "--partial"], "inflate", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet inflate takes one spec file: vnet inflate <3d-spec> --from <2d-checkpoint> -o <dir>");
  const from = values.get("--from");
  if (!from) throw hooks.usage("vnet inflate needs the 2D weights: --from <run-dir | checkpoint dir | tfjs model dir>");
  const target = values.get("--out");
  const dryRun = set.has("--dry-run");
  if (!target && !dryRun) throw hooks.usage("vnet inflate needs an output directory: -o <dir> (or --dry-run)");
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const network = loadNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const spec = hooks.expand([positional[0]!])[0]!;
  if (!network.inflatedFrom) {
    const diagnostic: Diagnostic = { code: "VN107", severity: "error", message: `${network.name} is not inflated from a 2D network, so there are no inflation rules to apply`, file: network.file, range: network.range, hint: "give the network an `inflate <2d-network> { ... }` statement, or load weights of the same network with vnet train --init" };
    out(renderAgainst(spec, [diagnostic], hooks));
    return 1;
  }
  await startBackend(values, out, hooks.usage, false);
  const compiled = compileToTfjs(network, { seed });
  if (!compiled.model) {
    out(renderAgainst(spec, compiled.diagnostics, hooks));
    return 1;
  }
  const model = compiled.model;
  try {
    const loaded = await loadWeightsByName(from, network, compiled.graph, { inflate: true, partial: set.has("--partial") });
    if (!("mapping" in loaded)) {
      out(renderAgainst(spec, [loaded], hooks));
      return 1;
    }
    const { mapping } = loaded;
    const savedAs = loaded.model && loaded.model !== network.inflatedFrom ? ` (saved as ${loaded.model})` : "";
    out(`inflating ${network.inflatedFrom} weights from ${loaded.directory}${savedAs} into ${network.name}`);
    if (dryRun) out(formatWeightReport(mapping.report));
    if (mapping.report.diagnostics.length) out(renderAgainst(spec, mapping.report.diagnostics, hooks));
    out(`${network.name}: ${reportCounts(mapping.report)}`);
    if (mapping.report.diagnostics.some((d) => d.severity === "error")) return 1;
    if (dryRun || !target) {
      out("dry run: nothing written");
      return 0;
    }
    assignWeights(model, mapping.weights);
    await saveModel(model, target);
    out(`wrote ${path.join(target, "model.json")} and ${path.join(target, "weights.bin")}`);
    return 0;
  } finally {
    model.dispose();
  }
}
