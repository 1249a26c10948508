/**
 * Reverse-mode differentiation of an ONNX graph: from a scalar loss back to the tensors asked for
 * (the trainable weights), appending the backward pass to the same graph so that ONNX Runtime
 * runs forward and backward as one session (its memory planner then frees each activation after
 * its last use in the backward pass). Only nodes on a path from a wanted tensor to the loss are
 * differentiated; cotangents reaching a tensor from several consumers are summed once, when its
 * producer is reached. Each node's cotangents come from its operator's rule in `vjp.ts`.
 */
import type { NodeView, Tape } from "./tape.js";
import { differentiableOutputs, vjpRule, type VjpContext } from "./vjp.js";

/** A node on the gradient path whose operator has no VJP rule. */
export class NotDifferentiable extends Error {
  constructor(readonly node: NodeView) {
    super(`the ONNX operator ${node.op} (node ${node.name}) has no gradient rule`);
    this.name = "NotDifferentiable";
  }
}

/**
 * Appends the backward pass of `loss` (a scalar tensor) to the tape's graph and returns the name
 * of each wanted tensor's gradient (zeros where the loss does not depend on it).
 * Throws NotDifferentiable when the path crosses an operator without a rule.
 */
export function differentiate(tape: Tape, loss: string, wrt: readonly string[]): Map<string, string> {
  const forward = tape.nodes();
  // Tensors that depend on a wanted one, in forward order.
  const requires = new Set<string>(wrt);
  for (const node of forward) {
    if (node.inputs.some((i) => requires.has(i))) for (const o of differentiableOutputs(node)) requires.add(o);
  }
  if (!requires.has(loss)) return new Map(wrt.map((w) => [w, tape.zeros(tape.shape(w), `grad/${w}/zeros`)]));

  // Nodes the loss depends on through tensors that need gradients.
  const producer = new Map<string, number>();
  forward.forEach((node, index) => node.outputs.forEach((o) => o && producer.set(o, index)));
  const relevant = new Set<number>();
  const pending = [loss];
  const seen = new Set<string>();
  while (pending.length) {
    const tensor = pending.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const index = producer.get(tensor);
    if (index === undefined) continue;
    relevant.add(index);
    for (const i of forward[index]!.inputs) if (requires.has(i)) pending.push(i);
  }

  const contributions = new Map<string, string[]>();
  const contribute = (tensor: string, value: string) => {
    const list = contributions.get(tensor);
    if (list) list.push(value);
    else contributions.set(tensor, [value]);
  };
  /** The summed cotangent of a tensor (undefined when nothing reached it). */
  const total = (tensor: string): string | undefined => {
    const list = contributions.get(tensor);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) {
      const sum = tape.op("Sum", list, `grad/${tensor}/sum`);
      contributions.set(tensor, [sum]);
    }
    return contributions.get(tensor)![0];
  };
  contribute(loss, tape.scalar(1));

  for (let index = forward.length - 1; index >= 0; index--) {
    if (!relevant.has(index)) continue;
    const node = forward[index]!;
    const dy = node.outputs.map((o) => (o ? total(o) : undefined));
    if (dy.every((d) => d === undefined)) continue;
    const rule = vjpRule(node.op);
    if (!rule) throw new NotDifferentiable(node);
    const ctx: VjpContext = {
      tape,
      node,
      dy,
      needs: (i) => requires.has(node.inputs[i] ?? ""),
      name: (part) => `grad/${node.name}/${part}`,
      forwardOutput: (i) => tape.addOutput(node, i),
    };
    const grads = rule(ctx);
    grads.forEach((g, i) => {
      const tensor = node.inputs[i];
      if (!g || !tensor || !requires.has(tensor)) return;
      const want = tape.shape(tensor).join();
      const got = tape.shape(g).join();
      if (want !== got)
        throw new Error(`internal: the ${node.op} rule gives ${tensor} (of ${node.name}) a cotangent of shape [${got}], the tensor is [${want}]`);
      contribute(tensor, g);
    });
  }
  return new Map(wrt.map((w) => [w, total(w) ?? tape.zeros(tape.shape(w), `grad/${w}/zeros`)]));
}
