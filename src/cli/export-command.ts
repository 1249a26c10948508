/**
 * `vnet export <spec> --weights <run-dir | checkpoint> -o model.onnx [--verify]`: exports trained
 * weights to an ONNX file (`vnet compile --target onnx` does the same with fresh weights, through
 * `writeOnnx`). `--verify` runs the file in ONNX Runtime and the tfjs model on the same random and
 * real inputs and reports the largest difference; it fails (exit 1) above 1e-4 relative to the
 * output's magnitude (absolute for outputs within [-1, 1]). Loaded on demand by the CLI.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { exportOnnx, ONNX_OPSET, programSources, tfjsWeightSource } from "../backends/onnx/index.js";
import { checkpointClassNames, checkpointDir } from "../runtime/train.js";
import { loadModel, writeAtomic } from "../runtime/model-io.js";
import { formatVerifyReport, verifyOnnxExport } from "../runtime/onnx-verify.js";
import type { CheckResult } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { checkNetwork, numberFlag, parseFlags, startBackend, type RunCommandHooks } from "./train-command.js";

/** The largest difference --verify accepts, relative to the output's magnitude (at least 1). */
export const VERIFY_TOLERANCE = 1e-4;

type Hooks = Pick<RunCommandHooks, "expand" | "render" | "usage">;

/** Refuses an output path that is a directory (an ONNX model is one file), before any work. */
export function checkOnnxOutput(file: string, usage: (m: string) => Error): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw usage(`-o ${file} is a directory; an ONNX model is one file: -o model.onnx`);
}

/**
 * Exports a network with the weights of `model` to `file` (atomically), prints what was written,
 * and verifies it when asked. Returns the exit code.
 */
export async function writeOnnx(network: CheckedNetwork, result: CheckResult, model: tf.LayersModel, weights: string, file: string, options: { verify: boolean; seed: number }, out: (s: string) => void, hooks: Hooks): Promise<number> {
  const exported = exportOnnx(network, { weights: tfjsWeightSource(model, weights), sources: programSources(result) });
  if (!exported.bytes) {
    out(hooks.render(exported.diagnostics, result));
    return 1;
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeAtomic(file, exported.bytes);
  const parameters = exported.graph.nodes.flatMap((n) => n.weights ?? []).reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
  const inputs = exported.inputs.map((i) => `${i.name} [N, ${i.shape.join(", ")}]${i.kind === "stream" ? " (stream)" : ""}`).join(", ");
  const classes = exported.graph.nodes.find((n) => n.id === exported.graph.outputs[0])!.shape;
  out(`exported ${network.name} (${weights}): ${exported.nodes} ONNX nodes, opset ${ONNX_OPSET}, ${parameters.toLocaleString("en-US")} weights and statistics; inputs ${inputs}, channels-last; outputs logits and probabilities [N, ${classes.join(", ")}]`);
  out(`wrote ${file} (${(exported.bytes.length / 2 ** 20).toFixed(1)} MiB)`);
  if (!options.verify) return 0;
  const report = await verifyOnnxExport(network, model, exported.bytes, { seed: options.seed });
  out(`verified with ONNX Runtime (cpu) against tfjs:\n${formatVerifyReport(report)}`);
  const failed = report.checks.filter((c) => !(c.maxAbsDiff <= VERIFY_TOLERANCE * Math.max(1, c.maxAbs)));
  if (failed.length) {
    out(`verification failed: the difference exceeds ${VERIFY_TOLERANCE} (relative to values above 1)`);
    return 1;
  }
  return 0;
}

const VALUED = ["-o", "--out", "--weights", "--network", "--backend", "--seed"];

/** Runs `vnet export`; returns the exit code (0 written, 1 spec or weight errors or failed verification, 2 usage). */
export async function exportCommand(args: readonly string[], out: (s: string) => void, hooks: Hooks): Promise<number> {
  const { positional, values, set } = parseFlags(args, VALUED, ["--verify"], "export", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet export takes one spec file: vnet export <spec> --weights <run-dir> -o model.onnx");
  const weights = values.get("--weights");
  if (!weights) throw hooks.usage("vnet export needs --weights <run-dir or checkpoint directory>");
  const file = values.get("--out");
  if (!file) throw hooks.usage("vnet export needs an output file: -o model.onnx");
  checkOnnxOutput(file, hooks.usage);
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const checked = checkNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof checked === "number") return checked;
  await startBackend(values, out, hooks.usage, false);
  const dir = checkpointDir(weights);
  let model: tf.LayersModel;
  try {
    model = await loadModel(dir);
  } catch (error) {
    throw hooks.usage(`cannot load weights from ${weights}: ${(error as Error).message.split("\n")[0]}`);
  }
  try {
    // The class names the weights were trained on (a video folder's) travel into the metadata.
    const classNames = checkpointClassNames(dir) ?? checked.network.classNames;
    const network = classNames ? { ...checked.network, classNames } : checked.network;
    return await writeOnnx(network, checked.result, model, `checkpoint ${dir}`, file, { verify: set.has("--verify"), seed }, out, hooks);
  } finally {
    model.dispose();
  }
}
