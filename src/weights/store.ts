/**
 * The weight store: a model's weights as named arrays under the names checkpoints store them by
 * (`layer/role`, `storedWeightName`), independent of any engine. A store is read from a checkpoint
 * directory (model.json + weights.bin: a vnet checkpoint or any tfjs LayersModel), taken from a
 * built tfjs model (fresh weights), or made by the weight tools (inflation, ONNX import, `--init`).
 * It is the `WeightSource` the ONNX exporter reads and trained tfjs models are built with
 * (`modelWithWeights`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { WeightDecl } from "../ir/graph.js";
import { storedWeightName, type WeightSource } from "../ir/weights.js";
import { MODEL_FILE, type NamedTensor, type NamedTensors, readModelDirectory } from "../runtime/checkpoint.js";
import { CheckpointError, modelWeights } from "./tensors.js";

export class WeightStore implements WeightSource {
  private constructor(
    /** Tensors by stored name. */
    readonly weights: NamedTensors,
    readonly description: string,
    /** The checkpoint directory read, for a store read from disk. */
    readonly directory?: string,
    /** The model name its model.json gives (vnet names a model after its network). */
    readonly model?: string,
  ) {}

  /** Named tensors as a store (what the weight tools make). */
  static of(weights: NamedTensors, description: string): WeightStore {
    return new WeightStore(weights, description);
  }

  /** Named tensors as a checkpoint lists them (`name` the stored name). */
  static ofTensors(tensors: readonly NamedTensor[], description: string): WeightStore {
    return new WeightStore(new Map(tensors.map((t) => [t.name, t])), description);
  }

  /** The weights of a built tfjs model (fresh from `emitTfjs`, say). */
  static ofModel(model: tf.LayersModel, description: string): WeightStore {
    return new WeightStore(modelWeights(model), description);
  }

  /**
   * Reads a model directory (model.json + weights: a vnet checkpoint or any tfjs LayersModel)
   * through the checkpoint reader, so its bytes are checked against the manifest (VN100) and its
   * values for NaN (VN118); a directory without model.json is a CheckpointError.
   */
  static readDirectory(directory: string): WeightStore {
    if (!fs.existsSync(path.join(directory, MODEL_FILE)))
      throw new CheckpointError(`${directory} holds no model.json (a tfjs LayersModel directory, a vnet checkpoint or run directory)`);
    const { json, weights } = readModelDirectory(directory);
    const name = (json.modelTopology as { config?: { name?: unknown } } | undefined)?.config?.name;
    return new WeightStore(weights, `checkpoint ${directory}`, directory, typeof name === "string" ? name : undefined);
  }

  shapeOf(decl: WeightDecl): readonly number[] | undefined {
    return this.weights.get(storedWeightName(decl))?.shape;
  }

  read(decl: WeightDecl): Float32Array {
    const tensor = this.weights.get(storedWeightName(decl));
    if (!tensor) throw new Error(`internal: ${this.description} has no ${storedWeightName(decl)}`);
    return tensor.values;
  }
}
