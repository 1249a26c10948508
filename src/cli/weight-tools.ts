/**
 * The steps the weight commands share (`vnet inflate`, `vnet weights import`, `vnet train
 * --init`): rendering diagnostics against the spec (weights files get no code frame), printing a
 * mapping's report, and writing the result atomically. The weight logic itself is src/weights's.
 */
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { saveModel } from "../runtime/model-io.js";
import { formatWeightReport, reportCounts, type WeightReport } from "../weights/report.js";
import { checkFiles } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { renderDiagnostics } from "./util.js";

/** Renders diagnostics against the spec's files (and, for weights files, without a code frame). */
export function renderAgainst(spec: string, diagnostics: readonly Diagnostic[], color: boolean): string {
  return renderDiagnostics(diagnostics, checkFiles([spec]), color);
}

/**
 * Prints a mapping's report (every tensor on a dry run), its diagnostics and counts; says whether
 * to stop (errors, exit 1), stop after a dry run (exit 0), or write.
 */
export function showMapping(
  network: CheckedNetwork,
  spec: string,
  report: WeightReport,
  extra: readonly Diagnostic[],
  dryRun: boolean,
  out: (s: string) => void,
  color: boolean,
): "errors" | "dry-run" | "write" {
  const diagnostics = [...extra, ...report.diagnostics];
  if (dryRun) out(formatWeightReport(report));
  if (diagnostics.length) out(renderAgainst(spec, diagnostics, color));
  out(`${network.name}: ${reportCounts(report)}`);
  if (diagnostics.some((d) => d.severity === "error")) return "errors";
  if (dryRun) out("dry run: nothing written");
  return dryRun ? "dry-run" : "write";
}

/** Saves a model (atomically) and says where. */
export async function writeModel(model: tf.LayersModel, target: string, out: (s: string) => void): Promise<void> {
  await saveModel(model, target);
  out(`wrote ${path.join(target, "model.json")} and ${path.join(target, "weights.bin")}`);
}
