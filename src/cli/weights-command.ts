/**
 * `vnet weights import <model.onnx> --spec <spec> -o <dir>`: weights trained elsewhere (an ONNX
 * file exported from PyTorch: torchvision's r3d_18 / mc3_18 / r2plus1d_18, a PySlowFast model)
 * mapped onto the spec's layers by structure, written as a tfjs model for `vnet train --init` or
 * `vnet eval --weights`. Before writing, the imported model and ONNX Runtime run the same random
 * input and must agree (max |diff| <= 1e-4 times the outputs' scale, at least 1e-4); `--no-verify`
 * skips that. `--dry-run` lists every tensor and writes nothing. Loaded on demand by the CLI.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { saveModel } from "../runtime/model-io.js";
import { inputMismatches, mapOnnxWeights } from "../runtime/weights/import-onnx.js";
import { fileDiagnostic } from "../runtime/weights/load-init.js";
import { OnnxError, readOnnx, type OnnxModel } from "../runtime/weights/onnx-graph.js";
import { onnxParity } from "../runtime/weights/onnx-parity.js";
import { formatWeightReport, reportCounts } from "../runtime/weights/report.js";
import { assignWeights } from "../runtime/weights/tensors.js";
import { renderAgainst } from "./inflate-command.js";
import { loadNetwork, numberFlag, parseFlags, startBackend, type RunCommandHooks } from "./train-command.js";

const VALUED = ["-o", "--out", "--spec", "--network", "--backend", "--seed"];

/** Relative tolerance of the parity check, never below this absolute difference. */
export const PARITY_TOLERANCE = 1e-4;

function readModel(file: string): OnnxModel | Diagnostic {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    return fileDiagnostic(file, "VN100", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  try {
    return readOnnx(bytes);
  } catch (error) {
    if (error instanceof OnnxError) return fileDiagnostic(file, "VN100", `${file}: ${error.message}`, "export the model with torch.onnx.export (weights inside the file)");
    throw error;
  }
}

/** Runs `vnet weights import`; returns the exit code (0 written or dry run clean, 1 errors, 2 usage). */
export async function weightsCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "import") throw hooks.usage(`vnet weights has one subcommand, import: vnet weights import <model.onnx> --spec <spec> -o <dir>${sub ? ` (not ${sub})` : ""}`);
  const { positional, values, set } = parseFlags(rest, VALUED, ["--dry-run", "--partial", "--no-verify"], "weights import", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet weights import takes one ONNX file: vnet weights import <model.onnx> --spec <spec> -o <dir>");
  const file = positional[0]!;
  const spec = values.get("--spec");
  if (!spec) throw hooks.usage("vnet weights import needs the spec whose layers take the weights: --spec <spec>");
  const target = values.get("--out");
  const dryRun = set.has("--dry-run");
  const partial = set.has("--partial");
  if (!target && !dryRun) throw hooks.usage("vnet weights import needs an output directory: -o <dir> (or --dry-run)");
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const network = loadNetwork(spec, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const specFile = hooks.expand([spec])[0]!;
  const onnxModel = readModel(file);
  if (!("layers" in onnxModel)) {
    out(renderAgainst(specFile, [onnxModel], hooks));
    return 1;
  }
  await startBackend(values, out, hooks.usage, false);
  const compiled = compileToTfjs(network, { seed });
  if (!compiled.model) {
    out(renderAgainst(specFile, compiled.diagnostics, hooks));
    return 1;
  }
  const model = compiled.model;
  try {
    out(`importing ${file} (${onnxModel.producer}, ${onnxModel.layers.length} weighted layers) into ${network.name}`);
    const mapping = mapOnnxWeights(compiled.graph, onnxModel, { partial, at: { file: network.file, range: network.range }, file });
    const inputs = inputMismatches(compiled.graph, onnxModel).map((message): Diagnostic => ({ code: "VN104", severity: "error", message, file: network.file, range: network.range }));
    const diagnostics = [...inputs, ...mapping.report.diagnostics];
    if (dryRun) out(formatWeightReport(mapping.report));
    if (diagnostics.length) out(renderAgainst(specFile, diagnostics, hooks));
    out(`${network.name}: ${reportCounts(mapping.report)}`);
    if (diagnostics.some((d) => d.severity === "error")) return 1;
    if (dryRun || !target) {
      out("dry run: nothing written");
      return 0;
    }
    assignWeights(model, mapping.weights);
    if (!set.has("--no-verify")) {
      const parity = await onnxParity(file, model, { seed });
      if (typeof parity === "string") out(`parity not checked: ${parity}`);
      else {
        const tolerance = PARITY_TOLERANCE * Math.max(1, parity.maxAbs);
        out(`parity with ONNX Runtime on a random input: max |diff| ${parity.maxAbsDiff.toExponential(2)} over outputs [${parity.outputShape.join(", ")}] up to ${parity.maxAbs.toPrecision(3)} in size (tolerance ${tolerance.toExponential(2)})`);
        if (parity.maxAbsDiff > tolerance) {
          const message = `the imported ${network.name} differs from ONNX Runtime on ${file} by up to ${parity.maxAbsDiff.toExponential(2)}; layers paired by order and shape may not compute the same thing (padding, pooling, activations)`;
          out(renderAgainst(specFile, [{ code: "VN108", severity: partial ? "warning" : "error", message, file: network.file, range: network.range, hint: "compare the spec with the exported model layer by layer (vnet summary, netron); --no-verify writes the weights anyway" }], hooks));
          if (!partial) return 1;
        }
      }
    }
    await saveModel(model, target);
    out(`wrote ${path.join(target, "model.json")} and ${path.join(target, "weights.bin")}`);
    return 0;
  } finally {
    model.dispose();
  }
}
