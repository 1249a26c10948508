/**
 * The one way passes change a graph: node by node, in order, each node kept or replaced by a
 * sequence of nodes. A replacement whose last node keeps the replaced node's id needs no rewiring:
 * consumers and graph outputs still point at that id. New ids are allocated deterministically
 * above every id in use.
 */
import { freezeGraph, maxNodeId, type IrGraph, type IrNode } from "../graph.js";
import type { Shape } from "../../ops/values.js";

export interface RewriteContext {
  /** A fresh node id. */
  newId(): number;
  /** Output shape of a node already emitted by this rewrite (or of an input). */
  shapeOf(id: number): Shape;
}

/**
 * Rewrites a graph. `replace` returns the nodes to emit in place of `node` (the node itself when
 * unchanged, or `undefined` for the same). Returns a new frozen graph with `pass` recorded.
 */
export function rewriteNodes(graph: IrGraph, pass: string, replace: (node: IrNode, ctx: RewriteContext) => readonly IrNode[] | undefined): IrGraph {
  let next = maxNodeId(graph) + 1;
  const shapes = new Map<number, Shape>();
  const ctx: RewriteContext = {
    newId: () => next++,
    shapeOf: (id) => {
      const shape = shapes.get(id);
      if (!shape) throw new Error(`internal: ${pass} reads node ${id} before it is emitted`);
      return shape;
    },
  };
  const nodes: IrNode[] = [];
  for (const node of graph.nodes) {
    const out = replace(node, ctx) ?? [node];
    for (const n of out) {
      shapes.set(n.id, n.shape);
      nodes.push(n);
    }
  }
  return freezeGraph({ ...graph, nodes, passes: [...graph.passes, pass] });
}

/** A node derived from `parent`: its origin and freezing, and the name `parent.local`. */
export function childNode(parent: IrNode, local: string, fields: Omit<IrNode, "origin" | "frozen" | "name">): IrNode {
  return { ...fields, name: `${parent.name}.${local}`, origin: parent.origin, frozen: parent.frozen };
}
