/**
 * `vnet export <spec> --weights <run-dir | checkpoint> -o model.onnx [--verify]`: exports trained
 * weights to an ONNX file (`vnet compile --target onnx` does the same with fresh weights, through
 * `writeOnnx`). `--verify` runs the file in ONNX Runtime and the tfjs model on the same random and
 * real inputs and reports the largest difference; it fails (exit 1) above 1e-4 relative to the
 * output's magnitude (absolute for outputs within [-1, 1]).
 */
import { exportOnnx, ONNX_OPSET, programSources } from "../../backends/onnx/index.js";
import type { IrGraph } from "../../ir/graph.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { formatVerifyReport, verifyExport } from "../../runtime/onnx-verify.js";
import type { CheckResult } from "../../semantics/check.js";
import type { WeightStore } from "../../weights/store.js";
import { UsageError } from "../args.js";
import { checkOutputFile, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { readWeightsFlag, startBackend, trainedModel, trainedClassNames } from "../run-util.js";
import { checkNetwork, renderDiagnostics } from "../util.js";

/** The largest difference --verify accepts, relative to the output's magnitude (at least 1). */
export const VERIFY_TOLERANCE = 1e-4;

/**
 * Exports a lowered graph with the weights of `store` to `file` (atomically), prints what was
 * written, and verifies it against the tfjs model of the same graph and weights when asked
 * (`startBackend` starts a tfjs backend for that when none runs yet). Returns the exit code.
 */
export async function writeOnnx(
  graph: IrGraph,
  result: CheckResult,
  store: WeightStore,
  file: string,
  options: { verify: boolean; seed: number; color: boolean; startBackend?: () => Promise<void> },
  out: (s: string) => void,
): Promise<number> {
  const exported = exportOnnx(graph, { weights: store, sources: programSources(result) });
  if (!exported.bytes) {
    out(renderDiagnostics(exported.diagnostics, result, options.color));
    return 1;
  }
  writeFileAtomic(file, exported.bytes, { createDirectory: true });
  const parameters = graph.nodes.flatMap((n) => n.weights ?? []).reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
  // A detector's boxes and outputs have a row per box (K), not per clip (N).
  const inputs = exported.inputs.map((i) => `${i.name} [${i.boxes ? "K" : "N"}, ${i.shape.join(", ")}]${i.kind === "stream" ? " (stream)" : ""}`).join(", ");
  const classes = graph.nodes.find((n) => n.id === graph.outputs[0])!.shape;
  const rows = graph.task === "detection" ? "K" : "N";
  out(
    `exported ${graph.name} (${store.description}): ${exported.nodes} ONNX nodes, opset ${ONNX_OPSET}, ${parameters.toLocaleString("en-US")} weights and statistics; inputs ${inputs}, channels-last; outputs logits and probabilities [${rows}, ${classes.join(", ")}]`,
  );
  out(`wrote ${file} (${(exported.bytes.length / 2 ** 20).toFixed(1)} MiB)`);
  if (!options.verify) return 0;
  await options.startBackend?.();
  const model = trainedModel(graph, result, store, out, options.color);
  if (typeof model === "number") return model;
  let report;
  try {
    report = await verifyExport(graph, model, exported.bytes, { seed: options.seed, sources: programSources(result) });
  } finally {
    model.dispose();
  }
  out(`verified with ONNX Runtime (cpu) against tfjs:\n${formatVerifyReport(report)}`);
  const failed = report.checks.filter((c) => !(c.maxAbsDiff <= VERIFY_TOLERANCE * Math.max(1, c.maxAbs)));
  if (failed.length) {
    out(`verification failed: the difference exceeds ${VERIFY_TOLERANCE} (relative to values above 1)`);
    return 1;
  }
  return 0;
}

export const command = defineCommand({
  name: "export",
  usage: "export <spec> --weights <run-dir> -o <model.onnx> [--verify] [--network NAME] [--backend B]",
  description:
    "Exports trained weights to ONNX (opset 17, channels-last inputs, logits and probabilities outputs, the test protocol and class names in the metadata). --verify runs the file in ONNX Runtime and reports the largest difference to tfjs.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "a run directory or checkpoint directory" },
    out: { type: "string", alias: "-o", value: "FILE", doc: "the ONNX file to write" },
    verify: { type: "switch", doc: "run the file in ONNX Runtime and compare it with tfjs (exit 1 above 1e-4)" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    seed: SEED_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    if (flags.weights === undefined) throw new UsageError("vnet export needs --weights <run-dir or checkpoint directory>");
    const file = flags.out;
    if (file === undefined) throw new UsageError("vnet export needs an output file: -o model.onnx");
    const checked = checkNetwork(positional[0]!, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const store = await readWeightsFlag(flags.weights);
    checkOutputFile("-o", file, [
      ...specInputs(checked.result.program.modules.keys(), checked.file),
      { path: store.directory!, what: "the weights being exported" },
    ]);
    // The class names the weights were trained on (a video folder's) travel into the metadata.
    const classNames = trainedClassNames(store, checked.graph);
    const graph = classNames ? { ...checked.graph, classNames } : checked.graph;
    return writeOnnx(
      graph,
      checked.result,
      store,
      file,
      { verify: flags.verify, seed: flags.seed ?? 0, color, startBackend: async () => void (await startBackend(flags.backend, out, false)) },
      out,
    );
  },
});
