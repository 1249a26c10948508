/**
 * `vnet weights import <model.onnx> --spec <spec> -o <dir>`: weights trained elsewhere (an ONNX
 * file exported from PyTorch: torchvision's r3d_18 / mc3_18 / r2plus1d_18, a PySlowFast model)
 * mapped onto the spec's layers by structure, written as a tfjs model for `vnet train --init` or
 * `vnet eval --weights`. Before writing, the imported model and ONNX Runtime run the same random
 * input and must agree (max |diff| <= 1e-4 times the outputs' scale, at least 1e-4); `--no-verify`
 * skips that. `--dry-run` lists every tensor and writes nothing.
 */
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { importParity, readOnnxFile } from "../../weights/import-file.js";
import { inputMismatches, mapOnnxWeights } from "../../weights/import-onnx.js";
import { freshModelWith } from "../../weights/model.js";
import { nonFinite } from "../../runtime/checkpoint.js";
import { UsageError } from "../args.js";
import { checkModelDirectory, specInputs } from "../outputs.js";
import { defineCommand, type CommandGroup } from "../command.js";
import { BACKEND_FLAG, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { checkRunnableNetwork, startBackend } from "../run-util.js";
import { renderAgainst, showMapping, writeModel } from "../weight-tools.js";

/** Relative tolerance of the parity check, never below this absolute difference. */
export const PARITY_TOLERANCE = 1e-4;

const importCommand = defineCommand({
  name: "import",
  usage: "weights import <model.onnx> --spec <spec> -o <dir> [--dry-run] [--partial] [--no-verify]",
  description:
    "Maps an ONNX file's weights (torch.onnx.export of torchvision's video ResNets, a PySlowFast model) onto the spec's layers by structure and writes a tfjs model. The result must agree with ONNX Runtime on a random input unless --no-verify.",
  positional: { names: "ONNX file", min: 1, max: 1 },
  flags: {
    spec: { type: "string", value: "SPEC", doc: "the spec whose layers take the weights" },
    out: { type: "string", alias: "-o", value: "DIR", doc: "the directory to write the model to" },
    dryRun: { type: "switch", doc: "list every tensor and write nothing" },
    partial: { type: "switch", doc: "leave weights that do not fit at their initialisers (warned)" },
    noVerify: { type: "switch", doc: "skip the parity check with ONNX Runtime" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    seed: SEED_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    const file = positional[0]!;
    const spec = flags.spec;
    if (!spec) throw new UsageError("vnet weights import needs the spec whose layers take the weights: --spec <spec>");
    const target = flags.out;
    const { dryRun, partial } = flags;
    if (!target && !dryRun) throw new UsageError("vnet weights import needs an output directory: -o <dir> (or --dry-run)");
    const checked = checkRunnableNetwork(spec, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const { network, graph, file: specFile } = checked;
    if (target)
      checkModelDirectory("-o", target, [...specInputs(checked.result.program.modules.keys(), specFile), { path: file, what: "the ONNX file being imported" }]);
    const onnxFile = readOnnxFile(file);
    if (!("model" in onnxFile)) {
      out(renderAgainst(specFile, [onnxFile], color));
      return 1;
    }
    const onnxModel = onnxFile.model;
    await startBackend(flags.backend, out, false);
    out(`importing ${file} (${onnxModel.producer}, ${onnxModel.layers.length} weighted layers) into ${network.name}`);
    const mapping = mapOnnxWeights(graph, onnxModel, { partial, at: { file: network.file, range: network.range }, file });
    const inputs = inputMismatches(graph, onnxModel).map(
      (message): Diagnostic => ({ code: "VN104", severity: "error", message, file: network.file, range: network.range }),
    );
    const bad = nonFinite(mapping.weights);
    // NaN weights would pass any parity check (every comparison with NaN is false): refuse them first.
    if (bad)
      inputs.push({
        code: "VN118",
        severity: "error",
        message: `${file}: ${bad.name} holds ${bad.count} NaN or infinite value(s); the imported model could only output NaN`,
        file: network.file,
        range: network.range,
        hint: "export the model again from a healthy checkpoint",
      });
    const next = showMapping(network, specFile, mapping.report, inputs, dryRun, out, color);
    if (next !== "write") return next === "errors" ? 1 : 0;
    const seed = flags.seed ?? 0;
    if (!flags.noVerify) {
      const checkedParity = await importParity(graph, onnxFile, mapping.weights, seed);
      if (typeof checkedParity === "string") out(`parity not checked: ${checkedParity}`);
      else {
        const { parity, resized } = checkedParity;
        const tolerance = PARITY_TOLERANCE * Math.max(1, parity.maxAbs);
        const where = resized ? ` at the file's clip [${resized.join(", ")}] (the spec's layers re-checked at it)` : "";
        out(
          `parity with ONNX Runtime on a random input${where}: max |diff| ${parity.maxAbsDiff.toExponential(2)} over outputs [${parity.outputShape.join(", ")}] up to ${parity.maxAbs.toPrecision(3)} in size (tolerance ${tolerance.toExponential(2)})`,
        );
        if (!(parity.maxAbsDiff <= tolerance)) {
          const message = `the imported ${network.name} differs from ONNX Runtime on ${file} by up to ${parity.maxAbsDiff.toExponential(2)}; layers paired by order and shape may not compute the same thing (padding, pooling, activations)`;
          out(
            renderAgainst(
              specFile,
              [
                {
                  code: "VN108",
                  severity: partial ? "warning" : "error",
                  message,
                  file: network.file,
                  range: network.range,
                  hint: "compare the spec with the exported model layer by layer (vnet summary, netron); --no-verify writes the weights anyway",
                },
              ],
              color,
            ),
          );
          if (!partial) return 1;
        }
      }
    }
    const model = freshModelWith(graph, mapping.weights, seed);
    if (typeof model === "string") throw new Error(`internal: the mapped weights do not fit ${network.name}: ${model}`);
    try {
      await writeModel(model, target!, out);
    } finally {
      model.dispose();
    }
    return 0;
  },
});

export const command: CommandGroup = {
  name: "weights",
  description: "Weights trained elsewhere: `vnet weights import` maps an ONNX file's weights onto a spec.",
  subcommands: [importCommand],
};
