/**
 * `vnet weights import <model.onnx> --spec <spec> -o <dir>`: weights trained elsewhere (an ONNX
 * file exported from PyTorch: torchvision's r3d_18 / mc3_18 / r2plus1d_18, a PySlowFast model)
 * mapped onto the spec's layers by structure, written as a tfjs model for `vnet train --init` or
 * `vnet eval --weights`. Before writing, the imported model and ONNX Runtime run the same random
 * input and must agree (max |diff| <= 1e-4 times the outputs' scale, at least 1e-4); `--no-verify`
 * skips that. `--dry-run` lists every tensor and writes nothing. Loaded on demand by the CLI.
 */
import * as fs from "node:fs";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { inputMismatches, mapOnnxWeights } from "../weights/import-onnx.js";
import { fileDiagnostic } from "../weights/load-init.js";
import { OnnxError, readOnnx, type OnnxModel } from "../backends/onnx/read.js";
import { onnxParity } from "../weights/onnx-parity.js";
import { assignWeights } from "../weights/tensors.js";
import { buildTarget, renderAgainst, showMapping, writeModel } from "./weight-tools.js";
import { loadNetwork, parseFlags, type RunCommandHooks } from "./train-command.js";

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
  const network = loadNetwork(spec, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const specFile = hooks.expand([spec])[0]!;
  const onnxModel = readModel(file);
  if (!("layers" in onnxModel)) {
    out(renderAgainst(specFile, [onnxModel], hooks));
    return 1;
  }
  const built = await buildTarget(network, specFile, values, out, hooks);
  if (typeof built === "number") return built;
  const { model, graph } = built;
  try {
    out(`importing ${file} (${onnxModel.producer}, ${onnxModel.layers.length} weighted layers) into ${network.name}`);
    const mapping = mapOnnxWeights(graph, onnxModel, { partial, at: { file: network.file, range: network.range }, file });
    const inputs = inputMismatches(graph, onnxModel).map((message): Diagnostic => ({ code: "VN104", severity: "error", message, file: network.file, range: network.range }));
    const next = showMapping(network, specFile, mapping.report, inputs, dryRun, out, hooks);
    if (next !== "write") return next === "errors" ? 1 : 0;
    assignWeights(model, mapping.weights);
    if (!set.has("--no-verify")) {
      const parity = await onnxParity(file, model);
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
    await writeModel(model, target!, out);
    return 0;
  } finally {
    model.dispose();
  }
}
