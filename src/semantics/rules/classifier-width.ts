/** VN024 classifier-width: every output of a network with `classes` is [N, classes]. */
import { formatShape } from "../../ops/values.js";
import type * as A from "../../syntax/ast.js";
import type { NetworkRule } from "../context.js";

export const classifierWidthRule: NetworkRule = (context, { decl, module, layers, outputs, classes }) => {
  if (classes === undefined) return;
  const statement = decl.body.find((s): s is A.OutputDecl => s.kind === "Output");
  const shapes = new Map(layers.map((l) => [l.id, l.shape]));
  for (const id of outputs) {
    const shape = shapes.get(id)!;
    if (shape.length === 1 && shape[0] === classes) continue;
    const range = statement ? (statement.values[0]?.range ?? statement.range) : decl.name.range;
    context.report("VN024", "error", `the output is ${formatShape(shape)} but the network has ${classes} classes: expected [N, ${classes}]`, module.file, range, {
      hint: shape.length === 1 ? "end with `dense(classes)`" : "pool or flatten to [N, F] and end with `dense(classes)`",
    });
  }
};
