/**
 * The weight store: a model's weights as named arrays under the names checkpoints store them by
 * (`layer/role`, `storedWeightName`), independent of any engine. A store is read from a checkpoint
 * directory (model.json + weights.bin: a vnet checkpoint or any tfjs LayersModel), taken from a
 * built tfjs model (fresh weights), or made by the weight tools (inflation, ONNX import, `--init`).
 * It is the `WeightSource` the ONNX exporter reads and trained tfjs models are built with
 * (`modelWithWeights`).
 */
import type * as tf from "@tensorflow/tfjs";
import type { WeightDecl } from "../ir/graph.js";
import { storedWeightName, type WeightSource } from "../ir/weights.js";
import { modelWeights, readCheckpointWeights, type WeightMap } from "./tensors.js";

export class WeightStore implements WeightSource {
  private constructor(
    /** Tensors by stored name. */
    readonly weights: WeightMap,
    readonly description: string,
    /** The checkpoint directory read, for a store read from disk. */
    readonly directory?: string,
    /** The model name its model.json gives (vnet names a model after its network). */
    readonly model?: string,
  ) {}

  /** Named tensors as a store (what the weight tools make). */
  static of(weights: WeightMap, description: string): WeightStore {
    return new WeightStore(weights, description);
  }

  /** Named tensors as a checkpoint lists them (`name` the stored name, row-major `data`). */
  static ofTensors(
    tensors: readonly { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array }[],
    description: string,
  ): WeightStore {
    return new WeightStore(new Map(tensors.map((t) => [t.name, { shape: t.shape, values: t.data }])), description);
  }

  /** The weights of a built tfjs model (fresh from `emitTfjs`, say). */
  static ofModel(model: tf.LayersModel, description: string): WeightStore {
    return new WeightStore(modelWeights(model), description);
  }

  /** Reads a checkpoint directory (one holding model.json); throws a CheckpointError saying what is wrong with it. */
  static async readDirectory(directory: string): Promise<WeightStore> {
    const checkpoint = await readCheckpointWeights(directory);
    return new WeightStore(checkpoint.weights, `checkpoint ${directory}`, directory, checkpoint.model);
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
