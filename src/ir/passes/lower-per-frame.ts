/**
 * Lowers `per_frame { body }`: the clip's frames are folded into the batch ([N, T, ...] ->
 * [N*T, ...]), the body's nodes are inlined under the per_frame layer's name, and the result is
 * unfolded ([N*T, ...] -> [N, T, ...]). Weights are shared across frames because there is one copy
 * of each body node, and batch norm sees the statistics of all N*T frames, as a per-frame 2D
 * network trained on the same frames would. A frozen body stays frozen node by node.
 */
import type { IrGraph, IrNode } from "../graph.js";
import { rewriteNodes } from "./rewrite.js";

export const LOWER_PER_FRAME = "lower-per-frame";

/** Replaces every per_frame node by fold_time, the inlined body, and unfold_time. */
export function lowerPerFrame(graph: IrGraph): IrGraph {
  return rewriteNodes(graph, LOWER_PER_FRAME, (node, ctx) => {
    if (node.op !== "per_frame" || !node.body) return undefined;
    const body = node.body;
    const clipShape = ctx.shapeOf(node.inputs[0]!);
    const fold: IrNode = {
      id: ctx.newId(),
      op: "fold_time",
      name: `${node.name}.fold_time`,
      args: {},
      inputs: [node.inputs[0]!],
      shape: clipShape.slice(1),
      frozen: node.frozen,
      origin: node.origin,
    };
    const frameInput = body.inputs[0]!.node;
    const rename = (id: number) => (id === frameInput ? fold.id : id);
    const inlined = body.nodes
      .filter((n) => n.id !== frameInput)
      .map((n): IrNode => ({ ...n, name: `${node.name}.${n.name}`, inputs: n.inputs.map(rename), frozen: n.frozen || node.frozen }));
    const unfold: IrNode = {
      id: node.id,
      op: "unfold_time",
      name: `${node.name}.unfold_time`,
      args: { frames: clipShape[0]! },
      inputs: [rename(body.outputs[0]!)],
      shape: node.shape,
      frozen: node.frozen,
      origin: node.origin,
    };
    return [fold, ...inlined, unfold];
  });
}
