/**
 * Axis orders of the ONNX tensors the exporter makes. The IR is channels-last ([N, T, H, W, C]);
 * ONNX's convolutions, pools and normalisations want channels first ([N, C, T, H, W]). Rather
 * than transposing around every operator, each exported tensor records the order in which it
 * holds the IR's axes, and a transpose is inserted only where an operator needs another order
 * (once per tensor and order). In practice that is at the inputs, which users give channels-last,
 * and where the IR itself moves axes (flatten in Keras order, folding time into the batch, the
 * recurrent layers' time-major sequences). Batch is always the first axis.
 */
import { attr, type Dim, type GraphBuilder } from "./builder.js";

export interface Value {
  /** The ONNX tensor's name. */
  readonly name: string;
  /** IR axes (0 = batch, 1.. = the IR shape's axes) in the order the ONNX tensor holds them. */
  readonly order: readonly number[];
  /** IR shape without batch, channels-last. */
  readonly shape: readonly number[];
}

/** The symbolic batch dimension of every input and output. */
export const BATCH = "N";

/** The symbolic row count of a detector's `boxes()` input and of every per-box tensor: K boxes, not N clips. */
export const BOX_ROWS = "K";

/** [0, 1, ..., rank - 1]: the IR's own (channels-last) order. */
export function channelsLast(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

/** [0, C, the rest]: channels right after batch, as ONNX's Conv, pools, BatchNormalization and LRN want. */
export function channelsFirst(rank: number): number[] {
  return rank < 2 ? channelsLast(rank) : [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Position of IR axis `axis` in a value's ONNX tensor. */
export function position(value: Value, axis: number): number {
  return value.order.indexOf(axis);
}

/** The last (channel) IR axis of a value. */
export function channelAxis(value: Value): number {
  return value.shape.length;
}

/** ONNX dimensions of a value held in `order` (batch symbolic). */
export function dimsIn(shape: readonly number[], order: readonly number[], rows: Dim = BATCH): Dim[] {
  return order.map((a) => (a === 0 ? rows : shape[a - 1]!));
}

/** Static sizes after batch of a value held in `order`, for Reshape targets. */
export function sizesIn(shape: readonly number[], order: readonly number[]): number[] {
  return order.slice(1).map((a) => shape[a - 1]!);
}

/**
 * The order left when the IR axes `removed` disappear from `order` (a reduction or a Gather with a
 * scalar index), with the remaining axes renumbered.
 */
export function withoutAxes(order: readonly number[], removed: readonly number[]): number[] {
  return order.filter((a) => !removed.includes(a)).map((a) => a - removed.filter((r) => r < a).length);
}

/** Transposes tensors into the orders operators want, once per tensor and order. */
export class Arranger {
  private readonly cache = new Map<string, string>();

  constructor(private readonly graph: GraphBuilder) {}

  /** The name of `value`'s data with its axes in `order` (the value itself when already so). */
  arrange(value: Value, order: readonly number[]): string {
    if (order.join() === value.order.join()) return value.name;
    const key = `${value.name}\u0000${order.join()}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const perm = order.map((a) => value.order.indexOf(a));
    if (perm.some((p) => p < 0) || order.length !== value.order.length)
      throw new Error(`internal: cannot arrange ${value.name} [${value.order}] as [${order}]`);
    const name = this.graph.op("Transpose", [value.name], `${value.name}/transpose`, { perm: attr.ints(perm) });
    this.cache.set(key, name);
    return name;
  }
}
