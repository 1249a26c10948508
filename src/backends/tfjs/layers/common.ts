/**
 * Shared pieces of vnet's custom tfjs layers: the types tfjs-layers does not export, seeded
 * initializers, and shape helpers. Every custom layer is registered with
 * `tf.serialization.registerClass` under a `Vnet` class name and serialises its whole
 * configuration, so `tf.loadLayersModel` rebuilds it after `import "vnet/backends/tfjs"`.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveWindow } from "../../../ops/geometry.js";
import type { Args } from "../../../ops/values.js";

export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
export type Kwargs = Parameters<tf.layers.Layer["call"]>[1];
export type Initializer = ReturnType<typeof tf.initializers.ones>;
export type ConfigDict = tf.serialization.ConfigDict;
export type Shape = tf.Shape;

/** Arguments every vnet layer accepts: seeded initialisation, or all zeros (fast, for counting). */
export interface VnetLayerArgs extends LayerArgs {
  /** Seed of the layer's initializers (derived from the weight names; see `weightSeed`). */
  seed?: number;
  /** Initialise every weight to zero: building is then fast (parameter counts, loading weights). */
  zeroInit?: boolean;
}

/** A 32-bit FNV-1a hash, so seeds follow weight names and not build order. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The seed of one weight: the same name and model seed always give the same initial values. */
export function weightSeed(modelSeed: number, weightName: string): number {
  return (hashName(weightName) ^ Math.imul(modelSeed + 1, 0x9e3779b1)) >>> 0;
}

/** How each kind of weight starts (PyTorch's video models: Kaiming normal, fan-out, for convs). */
export type InitKind = "conv" | "dense" | "recurrent" | "zeros" | "ones";

/** A seeded initializer of the given kind (or zeros for `zeroInit` builds). */
export function makeInitializer(kind: InitKind, seed: number | undefined, zeroInit = false): Initializer {
  if (zeroInit || kind === "zeros") return tf.initializers.zeros();
  const withSeed = seed === undefined ? {} : { seed };
  switch (kind) {
    case "ones":
      return tf.initializers.ones();
    case "conv":
      return tf.initializers.varianceScaling({ scale: 2, mode: "fanOut", distribution: "normal", ...withSeed });
    case "dense":
      return tf.initializers.glorotUniform(withSeed);
    case "recurrent":
      return tf.initializers.glorotUniform(withSeed);
  }
}

/** The one shape of a single-input layer. */
export function singleShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
}

/**
 * Spatial output sizes of a conv or pool layer over `spatial` input sizes (tfjs shapes: null where
 * unknown), from the catalogue's window geometry, so that a layer's shape is the IR's.
 */
export function windowOutput(spatial: readonly (number | null)[], window: Args, dims: number, pool: boolean): (number | null)[] {
  if (spatial.some((s) => s === null)) return spatial.map(() => null);
  return [...resolveWindow(spatial as number[], window, dims, pool).out];
}

/** The one tensor of a single-input layer. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** True when the layer runs in training mode (fit), false for predict/evaluate. */
export function isTraining(kwargs: Kwargs): boolean {
  return kwargs?.training === true;
}
