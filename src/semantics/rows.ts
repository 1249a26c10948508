/**
 * What a tensor's leading axis counts. Every tensor has an implicit leading axis: N clips (or
 * images, sequences) for most, but a detector's `boxes()` input [K, 5] and everything computed
 * from `roi_align` over it hold one row per box: K, which differs from N and from batch to batch.
 * Shapes do not show the difference, so the checker follows it through the graph: a layer's rows
 * are its inputs' rows, `roi_align` turns a per-clip map into per-box rows, and two row kinds
 * never meet in one layer (rules/box-rows.ts, VN028). `vnet summary` prints per-box shapes as [K, ...].
 */
import type { Layer } from "./network.js";

/** The leading axis of a layer's output: clips (N) or boxes (K). */
export type Rows = "clips" | "boxes";

/** Whether a layer is a `boxes()` input. */
export const isBoxesInput = (layer: Layer): boolean => layer.op === "input" && layer.args.kind === "boxes";

/** The rows of every layer of a network (top-level layers; a `per_frame` body keeps its clip's rows). */
export function layerRows(layers: readonly Layer[]): ReadonlyMap<number, Rows> {
  const rows = new Map<number, Rows>();
  for (const layer of layers) {
    if (layer.op === "input") rows.set(layer.id, isBoxesInput(layer) ? "boxes" : "clips");
    else if (layer.op === "roi_align") rows.set(layer.id, "boxes");
    else rows.set(layer.id, layer.inputs.some((i) => rows.get(i) === "boxes") ? "boxes" : "clips");
  }
  return rows;
}
