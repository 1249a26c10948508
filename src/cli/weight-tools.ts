/**
 * The steps the weight commands share (`vnet inflate`, `vnet weights import`, `vnet train
 * --init`): rendering diagnostics against the spec (weights files get no code frame), building
 * the spec's model whose weights are then set, printing a mapping's report, and writing the
 * result atomically.
 */
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import { saveModel } from "../runtime/model-io.js";
import { formatWeightReport, reportCounts, type WeightReport } from "../weights/report.js";
import { checkFiles } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { numberFlag, startBackend, type RunCommandHooks } from "./train-command.js";

/** Renders diagnostics against the spec's files (and, for weights files, without a code frame). */
export function renderAgainst(spec: string, diagnostics: readonly Diagnostic[], hooks: RunCommandHooks): string {
  return hooks.render(diagnostics, checkFiles([spec]));
}

/**
 * Prints a mapping's report (every tensor on a dry run), its diagnostics and counts; says whether
 * to stop (errors, exit 1), stop after a dry run (exit 0), or write.
 */
export function showMapping(network: CheckedNetwork, spec: string, report: WeightReport, extra: readonly Diagnostic[], dryRun: boolean, out: (s: string) => void, hooks: RunCommandHooks): "errors" | "dry-run" | "write" {
  const diagnostics = [...extra, ...report.diagnostics];
  if (dryRun) out(formatWeightReport(report));
  if (diagnostics.length) out(renderAgainst(spec, diagnostics, hooks));
  out(`${network.name}: ${reportCounts(report)}`);
  if (diagnostics.some((d) => d.severity === "error")) return "errors";
  if (dryRun) out("dry run: nothing written");
  return dryRun ? "dry-run" : "write";
}

/** Starts the backend and builds the spec's model, whose weights a weight tool then sets; an exit code when it does not build. */
export async function buildTarget(network: CheckedNetwork, spec: string, values: Map<string, string>, out: (s: string) => void, hooks: RunCommandHooks): Promise<{ model: tf.LayersModel; graph: IrGraph } | number> {
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  await startBackend(values, out, hooks.usage, false);
  const compiled = compileToTfjs(network, { seed });
  if (!compiled.model) {
    out(renderAgainst(spec, compiled.diagnostics, hooks));
    return 1;
  }
  return { model: compiled.model, graph: compiled.graph };
}

/** Saves a model (atomically) and says where. */
export async function writeModel(model: tf.LayersModel, target: string, out: (s: string) => void): Promise<void> {
  await saveModel(model, target);
  out(`wrote ${path.join(target, "model.json")} and ${path.join(target, "weights.bin")}`);
}
