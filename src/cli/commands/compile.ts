/**
 * `vnet compile <spec> --target tfjs -o <dir>`: checks a spec, lowers it through the IR pipeline,
 * builds the tfjs LayersModel and saves it as model.json + weights.bin, loadable with plain
 * `tf.loadLayersModel` once vnet's layer registry is imported. `--target onnx -o model.onnx`
 * exports the same freshly initialised model to ONNX (`--verify` checks it in ONNX Runtime).
 * `--dump-ir` prints the lowered IR.
 */
import * as path from "node:path";
import { emitTfjs } from "../../backends/tfjs/emit.js";
import { dumpIr } from "../../ir/dump.js";
import { describeSelection, selectBackend } from "../../runtime/backend.js";
import { saveModel } from "../../runtime/model-io.js";
import { totals } from "../../semantics/network.js";
import { WeightStore } from "../../weights/store.js";
import { UsageError } from "../args.js";
import { checkModelDirectory, checkOutputFile, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { checkNetwork, renderDiagnostics } from "../util.js";
import { writeOnnx } from "./export.js";

export const command = defineCommand({
  name: "compile",
  usage: "compile <spec> --target tfjs|onnx -o <dir | model.onnx> [--network NAME] [--seed N] [--dump-ir] [--verify]",
  description:
    "Builds the spec's model with freshly initialised weights: --target tfjs writes model.json + weights.bin into a directory, --target onnx one ONNX file (opset 17; --verify checks it in ONNX Runtime). --dump-ir prints the lowered IR.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    target: { type: "choice", choices: ["tfjs", "onnx"], default: "tfjs", doc: "what to write" },
    out: { type: "string", alias: "-o", value: "PATH", doc: "the model directory (tfjs) or file (onnx)" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    seed: SEED_FLAG,
    dumpIr: { type: "switch", doc: "print the lowered IR" },
    verify: { type: "switch", doc: "with --target onnx: run the file in ONNX Runtime and compare it with tfjs" },
  },
  async run({ positional, flags }, { out, color }) {
    const { target } = flags;
    if (flags.out === undefined && !flags.dumpIr)
      throw new UsageError(`vnet compile needs an output ${target === "onnx" ? "file: -o model.onnx" : "directory: -o <dir>"} (or --dump-ir)`);
    if (flags.verify && target !== "onnx") throw new UsageError("--verify checks an ONNX export: use it with --target onnx");
    const seed = flags.seed ?? 0;
    const checked = checkNetwork(positional[0]!, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const { network, graph, result } = checked;
    if (flags.out !== undefined) {
      // An output that is the spec, an import of it, or a run's checkpoint is refused before any work.
      const inputs = specInputs(result.program.modules.keys(), checked.file);
      if (target === "onnx") checkOutputFile("-o", flags.out, inputs);
      else checkModelDirectory("-o", flags.out, inputs);
    }
    if (flags.dumpIr) out(dumpIr(graph));
    if (flags.out === undefined) return 0;

    const selection = await selectBackend(flags.backend ? { force: flags.backend } : {});
    out(describeSelection(selection));
    const { model, diagnostics } = emitTfjs(graph, { seed });
    if (!model) {
      out(renderDiagnostics(diagnostics, result, color));
      return 1;
    }
    try {
      if (target === "onnx")
        return await writeOnnx(graph, result, WeightStore.ofModel(model, `fresh weights, seed ${seed}`), flags.out, { verify: flags.verify, seed, color }, out);
      await saveModel(model, flags.out);
      const counts = totals(network);
      const inputs = graph.inputs.map((i) => `${i.name} [${i.boxes ? "K" : "N"}, ${i.shape.join(", ")}]`).join(", ");
      const frozen = counts.frozen ? ` (+${counts.frozen.toLocaleString("en-US")} frozen)` : "";
      out(
        `compiled ${network.name}: ${model.layers.length} layers, ${counts.trainable.toLocaleString("en-US")} trainable parameters${frozen}; inputs ${inputs}`,
      );
      out(`wrote ${path.join(flags.out, "model.json")} and ${path.join(flags.out, "weights.bin")}`);
      return 0;
    } finally {
      model.dispose();
    }
  },
});
