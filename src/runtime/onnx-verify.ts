/**
 * Verifies an exported model against the tfjs model it came from: both run on the same raw input
 * (random clips in [0, 1], by default a batch of 2 to exercise the dynamic batch axis, and a real
 * builtin:motion clip), tfjs through vnet's data pipeline, ONNX Runtime (CPU) on the raw clip, and
 * the largest absolute difference of the network's output is reported. Streams the pipeline cannot
 * compute (optical flow) get the same random values on both sides.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { motionDataset, seededRandom } from "../data/motion.js";
import { lowerNetwork } from "../ir/pipeline.js";
import { checkFiles } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { loadOnnxModel, runOnnx, type HostTensor, type OnnxModel } from "./onnx.js";
import { computeModelInputs } from "./streams.js";

export interface ParityCheck {
  /** What the input was: "random" or "builtin:motion clip". */
  readonly input: string;
  readonly batch: number;
  /** The output compared: `logits` or `probabilities` for a classifier, else the task's output (`start`, ...). */
  readonly output: string;
  readonly maxAbsDiff: number;
  /** Largest absolute value of the tfjs output, to judge the difference by. */
  readonly maxAbs: number;
}

export interface VerifyReport {
  readonly checks: readonly ParityCheck[];
  readonly notes: readonly string[];
}

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

function randomTensor(shape: readonly number[], random: () => number, low: number, high: number): HostTensor {
  return { data: Float32Array.from({ length: product(shape) }, () => low + (high - low) * random()), shape };
}

/** A real clip (or frame) from builtin:motion of the raw input's size, or why there is none. */
function motionSample(shape: readonly number[], seed: number): HostTensor | string {
  const clip = shape.length === 4;
  const [frames, height, width, channels] = clip ? shape : [1, ...shape];
  if (height !== width || channels !== 3) return `builtin:motion makes square RGB frames; the input is [${shape.join(", ")}]`;
  const data = motionDataset({ classes: 2, frames: Math.max(frames!, 2), size: height!, trainPerClass: 0, valPerClass: 1, seed });
  const size = product(shape);
  return { data: data.val.clips.slice(0, size), shape: [1, ...shape] };
}

async function compare(network: CheckedNetwork, model: tf.LayersModel, onnx: OnnxModel, raw: HostTensor, random: () => number, input: string): Promise<ParityCheck> {
  const batch = raw.shape[0]!;
  const feeds: Record<string, HostTensor> = {};
  const provided = new Map<string, tf.Tensor>();
  for (const i of onnx.inputs) {
    if (i.kind === "raw") feeds[i.name] = raw;
    else {
      feeds[i.name] = randomTensor([batch, ...i.shape], random, -1, 1);
      provided.set(i.name, tf.tensor(feeds[i.name]!.data, [...feeds[i.name]!.shape]));
    }
  }
  const expected = tf.tidy(() => {
    const inputs = computeModelInputs(network, tf.tensor(raw.data, [...raw.shape]), { provided });
    return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
  });
  const want = (await expected.data()) as Float32Array;
  tf.dispose([expected, ...provided.values()]);
  const got = (await runOnnx(onnx, feeds))[onnx.modelOutput].data;
  let maxAbsDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(want[i]! - got[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
  }
  if (got.length !== want.length) maxAbsDiff = Infinity;
  return { input, batch, output: onnx.modelOutput, maxAbsDiff, maxAbs };
}

export interface VerifyOptions {
  /** Seed of the random inputs and of the real sample's choice (default 0). */
  readonly seed?: number;
  /** Batch sizes of the random checks (default [2]: the batch axis is dynamic). */
  readonly batches?: readonly number[];
  /** Also compare on a builtin:motion clip (default true). */
  readonly sample?: boolean;
}

/**
 * A network of another task than classification reads its inputs as they are (a localizer's
 * feature sequence, no clip and no streams) and has the task's outputs: each is compared.
 */
async function verifyTaskOutputs(network: CheckedNetwork, model: tf.LayersModel, bytes: Uint8Array, options: VerifyOptions): Promise<VerifyReport> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], logSeverityLevel: 3 });
  const random = seededRandom(options.seed ?? 0);
  const inputs = network.inputs.filter((i) => i.modelInput);
  const checks: ParityCheck[] = [];
  try {
    for (const batch of options.batches ?? [2]) {
      const feeds = inputs.map((i) => randomTensor([batch, ...i.shape], random, -1, 1));
      const results = await session.run(Object.fromEntries(inputs.map((i, k) => [i.name, new ort.Tensor("float32", feeds[k]!.data, [...feeds[k]!.shape])])));
      const expected = tf.tidy(() => {
        const out = model.predict(feeds.map((f) => tf.tensor(f.data, [...f.shape])));
        return Array.isArray(out) ? out : [out];
      });
      session.outputNames.forEach((name, k) => {
        const want = expected[k]!.dataSync();
        const got = results[name]!.data as Float32Array;
        let maxAbsDiff = got.length === want.length ? 0 : Infinity;
        let maxAbs = 0;
        for (let i = 0; i < want.length; i++) {
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(want[i]! - got[i]!));
          maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
        }
        checks.push({ input: "random", batch, output: name, maxAbsDiff, maxAbs });
      });
      tf.dispose(expected);
    }
  } finally {
    await session.release();
  }
  return { checks, notes: [] };
}

/** Runs the exported model (its bytes) and the tfjs model on the same inputs and reports the differences. */
export async function verifyOnnxExport(network: CheckedNetwork, model: tf.LayersModel, bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (network.task !== "classification") return verifyTaskOutputs(network, model, bytes, options);
  const seed = options.seed ?? 0;
  const onnx = await loadOnnxModel(bytes, { provider: "cpu" });
  const raws = onnx.inputs.filter((i) => i.kind === "raw");
  if (raws.length !== 1) throw new Error(`verification feeds one raw input; ${network.name} has ${raws.length}`);
  const shape = raws[0]!.shape;
  const random = seededRandom(seed);
  const notes: string[] = [];
  const streams = onnx.inputs.filter((i) => i.kind === "stream").map((i) => i.name);
  if (streams.length) notes.push(`stream${streams.length === 1 ? "" : "s"} ${streams.join(", ")}: random values in [-1, 1] on both sides (the data pipeline does not compute ${streams.length === 1 ? "it" : "them"} yet)`);
  const checks: ParityCheck[] = [];
  for (const batch of options.batches ?? [2]) checks.push(await compare(network, model, onnx, randomTensor([batch, ...shape], random, 0, 1), random, "random"));
  if (options.sample !== false) {
    const sample = motionSample(shape, seed);
    if (typeof sample === "string") notes.push(`no real sample: ${sample}`);
    else checks.push(await compare(network, model, onnx, sample, random, "builtin:motion clip"));
  }
  await onnx.session.release();
  return { checks, notes };
}

/** One line per check: `random (batch 2): max |diff| 1.2e-7 on logits (max |logit| 3.1)`. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.checks.map((c) => `  ${c.input} (batch ${c.batch}): max |diff| ${c.maxAbsDiff.toExponential(2)} on ${c.output} (largest |value| ${c.maxAbs.toPrecision(3)})`);
  return [...lines, ...report.notes.map((n) => `  note: ${n}`)].join("\n");
}

/**
 * The network with its input clip shortened to `frames` frames, when the spec checks at that
 * length and every weight keeps its name and shape (a network whose dense layer reads a
 * flattened clip does not); undefined otherwise. The spec text is re-checked with the input
 * declaration's frames replaced.
 */
export function atShorterClip(network: CheckedNetwork, frames: number, sources: ReadonlyMap<string, string>): CheckedNetwork | undefined {
  const input = network.inputs.find((i) => i.kind === "input");
  const text = sources.get(network.file);
  if (!input || input.shape.length !== 4 || text === undefined) return undefined;
  const declaration = new RegExp(`(input\\s+${input.name}\\s*=\\s*clip\\(\\s*frames\\s*=\\s*)(\\d+)`);
  if (!declaration.test(text)) return undefined;
  const changed = text.replace(declaration, `$1${frames}`);
  const target = path.resolve(network.file);
  const host = { readFile: (file: string) => (path.resolve(file) === target ? changed : (sources.get(file) ?? (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined))) };
  const result = checkFiles([network.file], { host });
  const short = result.networks.find((n) => n.name === network.name);
  if (!short || result.diagnostics.some((d) => d.severity === "error")) return undefined;
  const weights = (n: CheckedNetwork) => lowerNetwork(n).nodes.flatMap((node) => (node.weights ?? []).map((w) => `${w.name}:${w.shape.join("x")}`)).join();
  return weights(short) === weights(network) ? short : undefined;
}

/** The shortest of 2, 4, 8, 16, ... frames, below the input's, at which `atShorterClip` gives a network. */
export function shortestClip(network: CheckedNetwork, sources: ReadonlyMap<string, string>): CheckedNetwork | undefined {
  const frames = network.inputs.find((i) => i.kind === "input")?.shape[0] ?? 0;
  for (let t = 2; t < frames; t *= 2) {
    const short = atShorterClip(network, t, sources);
    if (short) return short;
  }
  return undefined;
}

export interface ExportVerification extends VerifyReport {
  /** The clip length the comparison ran at, when shorter than the model's. */
  readonly frames?: number;
}

/**
 * `--verify` of an export: ONNX Runtime against tfjs on the same inputs. tfjs runs full-size
 * video networks slowly (minutes for I3D on wasm), so where the weights allow it the comparison
 * runs at a shorter clip (`shortestClip`): the same weights exported and compiled again at that
 * length. The written file itself then runs once at full size in ONNX Runtime, whose outputs
 * must be finite.
 */
export async function verifyExport(network: CheckedNetwork, model: tf.LayersModel, bytes: Uint8Array, options: VerifyOptions & { readonly sources: ReadonlyMap<string, string> }): Promise<ExportVerification> {
  const short = shortestClip(network, options.sources);
  if (!short) return verifyOnnxExport(network, model, bytes, options);
  const { compileToTfjs } = await import("../backends/tfjs/compile.js");
  const { exportOnnx, tfjsWeightSource } = await import("../backends/onnx/index.js");
  const compiled = compileToTfjs(short, { zeroInit: true });
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  for (const w of compiled.model!.weights) w.write(byName.get(w.originalName)!.read());
  const exported = exportOnnx(short, { weights: tfjsWeightSource(model, "the exported weights"), sources: options.sources });
  const report = await verifyOnnxExport(short, compiled.model!, exported.bytes!, options);
  compiled.model!.dispose();
  const frames = short.inputs.find((i) => i.kind === "input")!.shape[0]!;
  const full = network.inputs.find((i) => i.kind === "input")!.shape[0]!;
  // The written file at its own size: it loads, runs, and gives finite scores.
  const onnx = await loadOnnxModel(bytes, { provider: "cpu" });
  const random = seededRandom((options.seed ?? 0) + 1);
  const feeds = Object.fromEntries(onnx.inputs.map((i) => [i.name, randomTensor([1, ...i.shape], random, i.kind === "raw" ? 0 : -1, 1)]));
  const scores = await runOnnx(onnx, feeds);
  await onnx.session.release();
  const finite = scores.logits.data.every(Number.isFinite) && scores.probabilities.data.every(Number.isFinite);
  const notes = [
    `compared at a clip of ${frames} frames instead of ${full} (the weights do not depend on the clip's length; tfjs is slow at full size)`,
    `the written file at ${full} frames (batch 1) ran in ONNX Runtime: ${finite ? "finite outputs" : "NON-FINITE outputs"}`,
    ...report.notes,
  ];
  const checks = finite ? report.checks : [...report.checks, { input: `full size (${full} frames)`, batch: 1, output: onnx.modelOutput, maxAbsDiff: Infinity, maxAbs: 0 }];
  return { checks, notes, frames };
}
