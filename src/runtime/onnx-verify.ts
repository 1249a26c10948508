/**
 * Verifies an exported model against the tfjs model of the same lowered graph: both are fed the
 * same inputs, the graph's (random clips in [0, 1], by default a batch of 2 to exercise the dynamic
 * batch axis, and a real builtin:motion clip), and the largest absolute difference of the
 * network's output is reported. Streams the graph does not compute (optical flow) get the same
 * random values on both sides.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { motionDataset, seededRandom } from "../data/motion.js";
import type { IrGraph } from "../ir/graph.js";
import { lowerAtInputs, weightSignature } from "../ir/resize.js";
import { WeightStore } from "../weights/store.js";
import { modelWithWeights } from "../weights/model.js";
import { loadOnnxModel, runOnnx, type HostTensor, type OnnxModel } from "./onnx.js";

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

async function compare(model: tf.LayersModel, onnx: OnnxModel, raw: HostTensor, random: () => number, input: string): Promise<ParityCheck> {
  const batch = raw.shape[0]!;
  const feeds: Record<string, HostTensor> = {};
  for (const i of onnx.inputs) feeds[i.name] = i.kind === "raw" ? raw : randomTensor([batch, ...i.shape], random, -1, 1);
  // The tfjs model takes the graph's inputs in the same order as the exported model.
  const expected = tf.tidy(() => {
    const inputs = onnx.inputs.map((i) => tf.tensor(feeds[i.name]!.data, [...feeds[i.name]!.shape]));
    return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
  });
  const want = (await expected.data()) as Float32Array;
  expected.dispose();
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
 * Boxes [K, 5] for a detector's `boxes()` input over a batch of `batch` clips of `height` x
 * `width` pixels: per clip, the whole frame, a random box inside it and one that crosses the
 * right and bottom edges (RoIAlign clamps or zeroes samples there), in batch order.
 */
function verificationBoxes(inputs: readonly { readonly boxes?: true; readonly shape: readonly number[] }[], batch: number, random: () => number): HostTensor {
  // The detector's one clip [T, H, W, C] gives the pixel frame the boxes are in.
  const clip = inputs.find((i) => !i.boxes)?.shape ?? [];
  const [height, width] = [clip[1] ?? 1, clip[2] ?? 1];
  const rows: number[] = [];
  for (let n = 0; n < batch; n++) {
    const x1 = random() * width * 0.6;
    const y1 = random() * height * 0.6;
    rows.push(n, 0, 0, width, height);
    rows.push(n, x1, y1, x1 + (0.1 + 0.3 * random()) * width, y1 + (0.1 + 0.3 * random()) * height);
    rows.push(n, width * (0.5 + 0.3 * random()), height * (0.5 + 0.3 * random()), width * 1.1, height * 1.2);
  }
  return { data: Float32Array.from(rows), shape: [rows.length / 5, 5] };
}

/**
 * A network of another task than classification reads its inputs as they are (a localizer's
 * feature sequence, a detector's clip and person boxes; no streams) and has the task's outputs:
 * each is compared.
 */
async function verifyTaskOutputs(graph: IrGraph, model: tf.LayersModel, bytes: Uint8Array, options: VerifyOptions): Promise<VerifyReport> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], logSeverityLevel: 3 });
  const random = seededRandom(options.seed ?? 0);
  const inputs = graph.inputs;
  const checks: ParityCheck[] = [];
  try {
    for (const batch of options.batches ?? [2]) {
      const feeds = inputs.map((i) => (i.boxes ? verificationBoxes(inputs, batch, random) : randomTensor([batch, ...i.shape], random, -1, 1)));
      const results = await session.run(Object.fromEntries(inputs.map((i, k) => [i.name, new ort.Tensor("float32", feeds[k]!.data, [...feeds[k]!.shape])])));
      const expected = tf.tidy(() => {
        // apply, not predict: predict slices every input into batches by the first input's rows,
        // and a detector's boxes have K rows, not N.
        const out = model.apply(
          feeds.map((f) => tf.tensor(f.data, [...f.shape])),
          { training: false },
        ) as tf.Tensor | tf.Tensor[];
        // A detector's model gives per-box logits; its export adds their sigmoid, the probabilities.
        if (graph.task === "detection" && !Array.isArray(out)) return [out, tf.sigmoid(out)];
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

/** Runs the exported model (its bytes) and the tfjs model of the same graph on the same inputs and reports the differences. */
export async function verifyOnnxExport(graph: IrGraph, model: tf.LayersModel, bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (graph.task !== "classification") return verifyTaskOutputs(graph, model, bytes, options);
  const seed = options.seed ?? 0;
  const onnx = await loadOnnxModel(bytes, { provider: "cpu" });
  const raws = onnx.inputs.filter((i) => i.kind === "raw");
  if (raws.length !== 1) throw new Error(`verification feeds one raw input; ${graph.name} has ${raws.length}`);
  const shape = raws[0]!.shape;
  const random = seededRandom(seed);
  const notes: string[] = [];
  const streams = onnx.inputs.filter((i) => i.kind === "stream").map((i) => i.name);
  if (streams.length)
    notes.push(
      `stream${streams.length === 1 ? "" : "s"} ${streams.join(", ")}: random values in [-1, 1] on both sides (computed by the data pipeline, outside both models)`,
    );
  const checks: ParityCheck[] = [];
  for (const batch of options.batches ?? [2]) checks.push(await compare(model, onnx, randomTensor([batch, ...shape], random, 0, 1), random, "random"));
  if (options.sample !== false) {
    const sample = motionSample(shape, seed);
    if (typeof sample === "string") notes.push(`no real sample: ${sample}`);
    else checks.push(await compare(model, onnx, sample, random, "builtin:motion clip"));
  }
  await onnx.session.release();
  return { checks, notes };
}

/** One line per check: `random (batch 2): max |diff| 1.2e-7 on logits (max |logit| 3.1)`. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.checks.map(
    (c) => `  ${c.input} (batch ${c.batch}): max |diff| ${c.maxAbsDiff.toExponential(2)} on ${c.output} (largest |value| ${c.maxAbs.toPrecision(3)})`,
  );
  return [...lines, ...report.notes.map((n) => `  note: ${n}`)].join("\n");
}

/**
 * The graph with its input clip shortened to `frames` frames, when the spec checks at that length
 * and every weight keeps its name and shape (a network whose dense layer reads a flattened clip
 * does not); undefined otherwise. The spec is re-checked with the input resized (`lowerAtInputs`).
 */
export function atShorterClip(graph: IrGraph, frames: number, sources: ReadonlyMap<string, string>): IrGraph | undefined {
  const raws = graph.inputs.filter((i) => i.kind === "raw" && !i.boxes);
  const input = raws[0];
  if (!input || raws.length !== 1 || input.shape.length !== 4) return undefined;
  const short = lowerAtInputs(graph, new Map([[input.name, [frames, ...input.shape.slice(1)]]]), sources);
  if (typeof short === "string") return undefined;
  return weightSignature(short) === weightSignature(graph) ? short : undefined;
}

/** The shortest of 2, 4, 8, 16, ... frames, below the input's, at which `atShorterClip` gives a graph. */
export function shortestClip(graph: IrGraph, sources: ReadonlyMap<string, string>): IrGraph | undefined {
  const frames = graph.inputs.find((i) => i.kind === "raw" && !i.boxes)?.shape[0] ?? 0;
  for (let t = 2; t < frames; t *= 2) {
    const short = atShorterClip(graph, t, sources);
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
export async function verifyExport(
  graph: IrGraph,
  model: tf.LayersModel,
  bytes: Uint8Array,
  options: VerifyOptions & { readonly sources: ReadonlyMap<string, string> },
): Promise<ExportVerification> {
  const short = shortestClip(graph, options.sources);
  if (!short) return verifyOnnxExport(graph, model, bytes, options);
  const { exportOnnx } = await import("../backends/onnx/index.js");
  const weights = WeightStore.ofModel(model, "the exported weights");
  const compiled = modelWithWeights(short, weights);
  const exported = exportOnnx(short, { weights, sources: options.sources });
  const report = await verifyOnnxExport(short, compiled.model!, exported.bytes!, options);
  compiled.model!.dispose();
  const frames = short.inputs.find((i) => i.kind === "raw" && !i.boxes)!.shape[0]!;
  const full = graph.inputs.find((i) => i.kind === "raw" && !i.boxes)!.shape[0]!;
  // The written file at its own size: it loads, runs, and gives finite scores.
  const onnx = await loadOnnxModel(bytes, { provider: "cpu" });
  const random = seededRandom((options.seed ?? 0) + 1);
  const feeds = Object.fromEntries(
    onnx.inputs.map((i) => [i.name, i.boxes ? verificationBoxes(onnx.inputs, 1, random) : randomTensor([1, ...i.shape], random, i.kind === "raw" ? 0 : -1, 1)]),
  );
  const scores = await runOnnx(onnx, feeds);
  await onnx.session.release();
  const finite = scores.logits.data.every(Number.isFinite) && scores.probabilities.data.every(Number.isFinite);
  const notes = [
    `compared at a clip of ${frames} frames instead of ${full} (the weights do not depend on the clip's length; tfjs is slow at full size)`,
    `the written file at ${full} frames (batch 1) ran in ONNX Runtime: ${finite ? "finite outputs" : "NON-FINITE outputs"}`,
    ...report.notes,
  ];
  const checks = finite
    ? report.checks
    : [...report.checks, { input: `full size (${full} frames)`, batch: 1, output: onnx.modelOutput, maxAbsDiff: Infinity, maxAbs: 0 }];
  return { checks, notes, frames };
}
