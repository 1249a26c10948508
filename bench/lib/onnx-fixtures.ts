/**
 * Fixtures shared by the ONNX benchmarks and tests: the full-size specs checked at a smaller input
 * (the same layers and weights, except dense layers fed by a flatten), and deterministic
 * "trained-like" weights given to both the tfjs model and the exporter: scaled uniform kernels,
 * non-zero biases, batch-norm scales, shifts and statistics away from their initial 1, 0, 0, 1, so
 * that every weight's layout and the inference form of batch norm are exercised.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { hashName } from "../../src/backends/tfjs/layers/common.js";
import { programSources, type WeightSource } from "../../src/backends/onnx/index.js";
import { seededRandom } from "../../src/data/motion.js";
import type { IrGraph, WeightDecl } from "../../src/ir/graph.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { checkFiles } from "../../src/semantics/check.js";
import { modelWithWeights } from "../../src/weights/model.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";

/**
 * The smallest input [frames, size] each full-size spec accepts (found by trying sizes and frame
 * counts; Inception keeps 224 for its final 7x7 pool, slow fusion and SlowFast need their frames).
 */
export const SMALL_INPUTS: Readonly<Record<string, readonly [number, number]>> = {
  c3d: [16, 16],
  cnn_lstm: [2, 56],
  cnn_lstm_frozen: [2, 56],
  convgru: [2, 16],
  convlstm: [2, 16],
  csn_r50: [8, 16],
  early_fusion: [5, 16],
  i3d_inception: [16, 224],
  i3d_r50: [2, 16],
  inception_v1_2d: [1, 224],
  late_fusion_mlp: [2, 16],
  late_fusion_pool: [2, 16],
  mc3_18: [2, 16],
  nonlocal_i3d_r50: [2, 32],
  r2plus1d_18: [8, 16],
  r3d_18: [8, 16],
  resnet50_2d: [1, 16],
  s3d: [16, 32],
  single_frame: [5, 16],
  slow_fusion: [10, 16],
  slow_r50: [1, 16],
  // The AVA detectors keep res5 at 1/16: 32 pixels leave a 2 x 2 map for RoIAlign; SlowFast's
  // lateral fusions (temporal stride 4) need 29 to 32 frames to meet the Slow pathway's 8.
  slow_r50_ava: [1, 16],
  slowfast_r50: [32, 16],
  slowfast_r50_ava: [32, 32],
  tsm_r50: [8, 16],
  tsn_r50: [8, 16],
  two_stream: [11, 48],
  x3d_m: [2, 16],
  x3d_s: [2, 16],
  // A localizer: `frames` is the sequence length (its features stay).
  bmn: [16, 0],
};

/**
 * Checks a spec file with its input clip (or image) resized to `frames` x `size` x `size` and its
 * sampling crop to match (a feature sequence to `frames` positions); imports resolve as usual. Throws when the resized spec has errors.
 * Returns the network and the checked source texts.
 */
export function checkResized(file: string, frames: number, size: number): { network: CheckedNetwork; graph: IrGraph; sources: Map<string, string> } {
  const target = path.resolve(file);
  const text = fs
    .readFileSync(target, "utf8")
    .replace(/clip\(frames = \d+, size = \d+/, `clip(frames = ${frames}, size = ${size}`)
    .replace(/image\(size = \d+/, `image(size = ${size}`)
    .replace(/sequence\(length = \d+/, `sequence(length = ${frames}`)
    .replace(/crop = \d+/g, `crop = ${size}`);
  const host = { readFile: (f: string) => (path.resolve(f) === target ? text : fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined) };
  const result = checkFiles([target], { host });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length || result.networks.length !== 1)
    throw new Error(`${file} at ${frames}x${size}: ${errors.map((d) => d.message).join("; ") || "no single network"}`);
  return { network: result.networks[0]!, graph: lowerNetwork(result.networks[0]!), sources: programSources(result) };
}

/** Deterministic trained-like values of one weight (the same for a name and seed everywhere). */
export function trainedLikeValues(decl: WeightDecl, seed: number): Float32Array {
  const random = seededRandom((hashName(decl.name) ^ Math.imul(seed + 1, 0x9e3779b1)) >>> 0);
  const size = decl.shape.reduce((a, b) => a * b, 1);
  const uniform = (low: number, high: number) => {
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = low + (high - low) * random();
    return values;
  };
  switch (decl.role) {
    case "kernel":
    case "recurrent_kernel": {
      // Variance 1 / fan-in (LeCun uniform): activations shrink a little through each ReLU rather
      // than grow through residual sums, so logits stay at the scale of a trained network's.
      const bound = Math.sqrt(3 / (size / decl.shape.at(-1)!));
      return uniform(-bound, bound);
    }
    case "gamma":
    case "moving_variance":
      return uniform(0.5, 1.5);
    default:
      return uniform(-0.1, 0.1);
  }
}

/** Trained-like weights as a source for the exporter. */
export function trainedLikeWeights(seed: number): WeightSource {
  return { description: `trained-like weights (seed ${seed})`, shapeOf: (decl) => decl.shape, read: (decl) => trainedLikeValues(decl, seed) };
}

/** The tfjs model of a lowered graph with trained-like weights. */
export function trainedLikeModel(graph: IrGraph, seed: number): tf.LayersModel {
  const built = modelWithWeights(graph, trainedLikeWeights(seed));
  if (!built.model) throw new Error(`${graph.name} does not build: ${built.diagnostics.map((d) => d.message).join("; ")}`);
  return built.model;
}
