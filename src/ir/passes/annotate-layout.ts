/**
 * Annotates every node with its memory layout. Tensors are channels-last throughout (tfjs's
 * native layout; an ONNX backend transposes at its boundary), and a tensor between `fold_time`
 * and `unfold_time` has its time axis folded into the batch: `(NT)HWC`.
 */
import type { IrGraph, Layout } from "../graph.js";
import { rewriteNodes } from "./rewrite.js";

export const ANNOTATE_LAYOUT = "annotate-layout";

const UNFOLDED: readonly Layout[] = ["NC", "NTC", "NHWC", "NTHWC"];
const FOLDED: readonly Layout[] = ["(NT)C", "(NT)TC", "(NT)HWC", "(NT)THWC"];

/** The layout of a tensor of `rank` (without batch), folded or not. */
export function layoutFor(rank: number, folded: boolean): Layout | undefined {
  return (folded ? FOLDED : UNFOLDED)[rank - 1];
}

/** Sets `layout` on every node: folded from fold_time until unfold_time. */
export function annotateLayout(graph: IrGraph): IrGraph {
  const folded = new Set<number>();
  return rewriteNodes(graph, ANNOTATE_LAYOUT, (node) => {
    const isFolded = node.op === "fold_time" || (node.op !== "unfold_time" && node.inputs.some((i) => folded.has(i)));
    if (isFolded) folded.add(node.id);
    const layout = layoutFor(node.shape.length, isFolded);
    return [layout ? { ...node, layout } : node];
  });
}
