/** Helpers of the ONNX tests: checked specs with their sources, exports with trained-like weights, and parity. */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import { trainedLikeModel } from "../bench/lib/onnx-fixtures.js";
import { exportOnnx, programSources } from "../src/backends/onnx/index.js";
import { seededRandom } from "../src/data/motion.js";
import type { IrGraph } from "../src/ir/graph.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import type { HostTensor } from "../src/runtime/onnx.js";
import { verifyOnnxExport, type VerifyOptions } from "../src/runtime/onnx-verify.js";
import { checkFiles, type CheckResult } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { WeightStore } from "../src/weights/store.js";
import { checkText } from "./helpers.js";

/** The parity the issue asks for: max |diff| to tfjs. */
export const TOLERANCE = 1e-4;

/** A checked network, its lowered graph and the source texts the check read. */
export interface Checked {
  readonly network: CheckedNetwork;
  readonly graph: IrGraph;
  readonly sources: ReadonlyMap<string, string>;
}

/** The networks of an error-free check, by name. */
export function checked(result: CheckResult): Map<string, Checked> {
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return new Map(result.networks.map((network) => [network.name, { network, graph: lowerNetwork(network), sources: programSources(result) }]));
}

export const checkSpec = (file: string): Checked => [...checked(checkFiles([file])).values()][0]!;
export const checkSource = (text: string) => checked(checkText(text));

/** A tfjs model with trained-like weights and its ONNX export (through the weight store of the model, as `vnet compile` exports). */
export function exported({ graph, sources }: Checked, seed = 5): { model: tf.LayersModel; bytes: Uint8Array; result: ReturnType<typeof exportOnnx> } {
  const model = trainedLikeModel(graph, seed);
  const result = exportOnnx(graph, { weights: WeightStore.ofModel(model, "test model"), sources });
  expect(result.diagnostics).toEqual([]);
  return { model, result, bytes: result.bytes! };
}

/** Exports with trained-like weights and expects ONNX Runtime to equal tfjs within TOLERANCE; returns the largest difference. */
export async function expectParity(spec: Checked, options: VerifyOptions = { seed: 3 }): Promise<number> {
  const { model, bytes } = exported(spec);
  const report = await verifyOnnxExport(spec.graph, model, bytes, options);
  model.dispose();
  const worst = Math.max(...report.checks.map((c) => c.maxAbsDiff));
  expect(report.checks.length).toBeGreaterThanOrEqual(1);
  expect(worst, `${spec.network.name}: ${JSON.stringify(report.checks)}`).toBeLessThanOrEqual(TOLERANCE);
  return worst;
}

/** Seeded uniform values in [0, 1). */
export function random(shape: readonly number[], seed: number): HostTensor {
  const next = seededRandom(seed);
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next), shape };
}

/** `count` boxes [clip index, x1, y1, x2, y2] inside clips of `height` x `width` pixels, spread over `batch` clips, row-major [count, 5]. */
export function randomBoxes(count: number, batch: number, height: number, width: number, random: () => number): Float32Array {
  const rows = Array.from({ length: count }, (_, k) => {
    const [x1, y1] = [random() * width * 0.5, random() * height * 0.5];
    return [k % batch, x1, y1, x1 + (0.2 + 0.3 * random()) * width, y1 + (0.2 + 0.3 * random()) * height];
  });
  return Float32Array.from(rows.flat());
}
