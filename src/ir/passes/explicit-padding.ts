/**
 * Makes padding explicit, so that backends whose convolutions and pools only know "same" and
 * "valid" (tfjs) need no padding arithmetic of their own:
 * - padding equal to TensorFlow's "same" becomes `pad = "same"`, no padding becomes "valid";
 * - any other padding of a conv becomes a zero `pad` node before it (PyTorch-style symmetric
 *   padding with a stride, for instance), and of a max pool a `pad` node with -inf, so that
 *   padding never wins the max;
 * - ceil-mode rounding becomes extra padding after (PyTorch's rule: the last window starts inside
 *   the input or its left padding);
 * - an average pool keeps its padding, resolved to `pad = "explicit"` with `pad_before` and
 *   `pad_after`, because padding is left out of its average, which a pad node cannot express.
 * Every conv and pool leaves this pass with `ceil = false`.
 */
import type { IrGraph, IrNode } from "../graph.js";
import { isSamePadding, isUnpadded, resolveWindow, windowDims } from "../../ops/geometry.js";
import { rewriteNodes } from "./rewrite.js";

export const EXPLICIT_PADDING = "explicit-padding";

const WINDOWED = new Set(["conv1d", "conv2d", "conv3d", "maxpool2d", "maxpool3d", "avgpool2d", "avgpool3d"]);

/** Rewrites every conv and pool to "same", "valid", a pad node + "valid", or explicit padding. */
export function explicitPadding(graph: IrGraph): IrGraph {
  return rewriteNodes(graph, EXPLICIT_PADDING, (node, ctx) => {
    if (!WINDOWED.has(node.op)) return undefined;
    const input = ctx.shapeOf(node.inputs[0]!);
    const dims = windowDims(node.op);
    const pool = !node.op.startsWith("conv");
    const g = resolveWindow(input, node.args, dims, pool);
    const window = { ...node.args, kernel: [...g.kernel], stride: [...g.stride], ...(pool ? { ceil: false } : { dilation: [...g.dilation] }) };
    if (isUnpadded(g)) return [{ ...node, args: { ...window, pad: "valid" } }];
    if (isSamePadding(input.slice(0, dims), g)) return [{ ...node, args: { ...window, pad: "same" } }];
    if (node.op.startsWith("avgpool")) return [{ ...node, args: { ...window, pad: "explicit", pad_before: [...g.before], pad_after: [...g.after] } }];
    const padded = input.map((d, i) => (i < dims ? d + g.before[i]! + g.after[i]! : d));
    const pad: IrNode = {
      id: ctx.newId(),
      op: "pad",
      name: `${node.name}.pad`,
      args: { before: [...g.before], after: [...g.after], value: pool ? "-inf" : 0 },
      inputs: [node.inputs[0]!],
      shape: padded,
      frozen: node.frozen,
      origin: node.origin,
    };
    return [pad, { ...node, args: { ...window, pad: "valid" }, inputs: [pad.id] }];
  });
}
