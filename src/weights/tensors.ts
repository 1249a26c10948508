/**
 * Weights as plain named arrays (`Tensor`s by tfjs weight name, `layer/role`, as model.json lists
 * them and `storedWeightName` makes them), what vnet's weight tools (inflation, ONNX import,
 * `--init`) map between, taken from and written into built tfjs models. Reading them from disk is
 * the checkpoint reader's (`readModelDirectory` in runtime/checkpoint.ts, through
 * `WeightStore.readDirectory`), so any tfjs LayersModel directory can be a source.
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedTensors, Tensor } from "../runtime/checkpoint.js";

/** A checkpoint that cannot be read; the message says why, for a user. */
export class CheckpointError extends Error {}

/** `[3, 3, 16]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The weights of a built model, by tfjs weight name. */
export function modelWeights(model: tf.LayersModel): Map<string, Tensor> {
  return new Map(model.weights.map((w) => [w.originalName, { shape: w.shape as number[], values: w.read().dataSync() as Float32Array }]));
}

/** The names and shapes of a built model's weights, in model order. */
export function weightSlots(model: tf.LayersModel): { name: string; shape: readonly number[] }[] {
  return model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
}

/** Writes weights into a built model; every name must be one of its weights, with its shape. */
export function assignWeights(model: tf.LayersModel, weights: NamedTensors): void {
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  for (const [name, tensor] of weights) {
    const variable = byName.get(name);
    if (!variable || !sameShape(variable.shape as number[], tensor.shape))
      throw new Error(`internal: ${name} ${formatShape(tensor.shape)} is not a weight of ${model.name}`);
    tf.tidy(() => {
      variable.write(tf.tensor(tensor.values, [...tensor.shape]));
    });
  }
}
