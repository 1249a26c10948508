/**
 * Weights as plain named arrays, what vnet's weight tools (inflation, ONNX import, `--init`) map
 * between: tfjs weight names (`layer/role`, as model.json lists them and `storedWeightName` makes
 * them) to a shape and float32 values. Reading a tfjs LayersModel checkpoint needs only its
 * model.json and weight files, not its layers, so any tfjs LayersModel can be a source.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { VnetError } from "../diagnostics/error.js";
import { fileHandler } from "../runtime/model-io.js";

export interface WeightTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export type WeightMap = ReadonlyMap<string, WeightTensor>;

export interface CheckpointWeights {
  /** The model's name in model.json (vnet names a model after its network). */
  readonly model: string | undefined;
  readonly weights: Map<string, WeightTensor>;
}

/** A checkpoint that cannot be read; the message says why, for a user. */
export class CheckpointError extends Error {}

/** `[3, 3, 16]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Reads every weight of a tfjs LayersModel directory (model.json + weight files). */
export async function readCheckpointWeights(directory: string): Promise<CheckpointWeights> {
  const manifest = path.join(directory, "model.json");
  if (!fs.existsSync(manifest))
    throw new CheckpointError(`${directory} holds no model.json (a tfjs LayersModel directory, a vnet checkpoint or run directory)`);
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await fileHandler(directory).load!();
  } catch (error) {
    // A damaged file (bytes that do not match the manifest, NaN weights) is already a coded error (VN100, VN118).
    if (error instanceof VnetError) throw error;
    throw new CheckpointError(`cannot read ${manifest}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) throw new CheckpointError(`${manifest} lists no weights`);
  const weights = new Map<string, WeightTensor>();
  let decoded: tf.NamedTensorMap;
  try {
    decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  } catch (error) {
    throw new CheckpointError(`the weight files of ${manifest} do not match its manifest: ${(error as Error).message.split("\n")[0]}`);
  }
  for (const [name, tensor] of Object.entries(decoded)) {
    if (tensor.dtype === "float32") weights.set(name, { shape: tensor.shape, values: tensor.dataSync() as Float32Array });
    tensor.dispose();
  }
  const topology = artifacts.modelTopology as { config?: { name?: unknown } } | undefined;
  return { model: typeof topology?.config?.name === "string" ? topology.config.name : undefined, weights };
}

/** The weights of a built model, by tfjs weight name. */
export function modelWeights(model: tf.LayersModel): Map<string, WeightTensor> {
  return new Map(model.weights.map((w) => [w.originalName, { shape: w.shape as number[], values: w.read().dataSync() as Float32Array }]));
}

/** The names and shapes of a built model's weights, in model order. */
export function weightSlots(model: tf.LayersModel): { name: string; shape: readonly number[] }[] {
  return model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
}

/** Writes weights into a built model; every name must be one of its weights, with its shape. */
export function assignWeights(model: tf.LayersModel, weights: WeightMap): void {
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
