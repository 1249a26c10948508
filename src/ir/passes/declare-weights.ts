/**
 * Declares every node's weights with deterministic, hierarchical names: the node's name and the
 * weight's role, `layer2.0.conv1.conv3d.kernel`, `layer2.0.bn.moving_mean`. Shapes are
 * channels-last (Keras layout). Weights of frozen nodes and batch-norm statistics are not
 * trainable. Runs after the passes that create nodes, so every weight has its final name.
 */
import type { IrGraph, WeightDecl } from "../graph.js";
import { IR_OPS } from "../ops.js";
import { rewriteNodes } from "./rewrite.js";

export const DECLARE_WEIGHTS = "declare-weights";

const STATISTICS = new Set(["moving_mean", "moving_variance"]);

/** Sets `weights` on every node (empty for weightless operators). */
export function declareWeights(graph: IrGraph): IrGraph {
  return rewriteNodes(graph, DECLARE_WEIGHTS, (node, ctx) => {
    const rule = IR_OPS.get(node.op)?.weights;
    const shapes = rule
      ? rule(
          node.inputs.map((i) => ctx.shapeOf(i)),
          node.args,
        )
      : [];
    const weights: WeightDecl[] = shapes.map((w) => ({
      name: `${node.name}.${w.role}`,
      role: w.role,
      shape: w.shape,
      trainable: !node.frozen && !STATISTICS.has(w.role),
    }));
    return [{ ...node, weights }];
  });
}
