/**
 * Removes nodes no graph output depends on: a binding the spec never uses (the checker warns,
 * VN042) is not part of the model, and neither is a graph input (or a model input) that only such
 * nodes read.
 */
import { freezeGraph, type IrGraph } from "../graph.js";

export const PRUNE_UNREACHABLE = "prune-unreachable";

/** Keeps the nodes the outputs depend on, in their order, and the inputs they read. */
export function pruneUnreachable(graph: IrGraph): IrGraph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const live = new Set<number>();
  const pending = [...graph.outputs];
  while (pending.length) {
    const id = pending.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    pending.push(...(byId.get(id)?.inputs ?? []));
  }
  return freezeGraph({
    ...graph,
    nodes: graph.nodes.filter((n) => live.has(n.id)),
    inputs: graph.inputs.filter((i) => live.has(i.node)),
    modelInputs: graph.modelInputs.filter((i) => live.has(i.node)),
    passes: [...graph.passes, PRUNE_UNREACHABLE],
  });
}
