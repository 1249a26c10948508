/** VN030 block-recursion: blocks that (directly or through others) apply themselves never expand to a finite network. */
import type * as A from "../../syntax/ast.js";
import { blockExprs, forEachStage } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";

interface Edge {
  readonly callee: A.BlockDecl;
  readonly stage: A.CallStage;
  readonly file: string;
}

export function blockRecursionRule(context: CheckContext): void {
  const blocks: A.BlockDecl[] = [];
  const edges = new Map<A.BlockDecl, Edge[]>();
  for (const module of context.program.modules.values()) {
    for (const decl of module.ast.items) {
      if (decl.kind !== "Block") continue;
      blocks.push(decl);
      const out: Edge[] = [];
      for (const e of blockExprs(decl)) {
        forEachStage(e, (stage) => {
          if (stage.kind !== "CallStage") return;
          const callee = context.peekTop(module.file, stage.callee.name)?.definition;
          if (callee?.kind === "block") out.push({ callee: callee.node as A.BlockDecl, stage, file: module.file });
        });
      }
      edges.set(decl, out);
    }
  }
  // Depth-first search with an explicit stack: a chain of 50,000 blocks must not exhaust the call stack.
  const state = new Map<A.BlockDecl, "visiting" | "done">();
  const reported = new Set<A.CallStage>();
  for (const root of blocks) {
    if (state.has(root)) continue;
    const path: A.BlockDecl[] = [root];
    const next: number[] = [0];
    state.set(root, "visiting");
    while (path.length > 0) {
      const block = path[path.length - 1]!;
      const edge = edges.get(block)?.[next[next.length - 1]!++];
      if (!edge) {
        state.set(block, "done");
        path.pop();
        next.pop();
        continue;
      }
      const s = state.get(edge.callee);
      if (s === "visiting") {
        if (reported.has(edge.stage)) continue;
        reported.add(edge.stage);
        const cycle = [...path.slice(path.indexOf(edge.callee)), edge.callee].map((b) => b.name.name).join(" -> ");
        context.report("VN030", "error", `block recursion: ${cycle}`, edge.file, edge.stage.callee.range, {
          hint: "a block cannot apply itself; repeat layers with `for i in 0..n { ... }` instead",
        });
      } else if (s === undefined) {
        state.set(edge.callee, "visiting");
        path.push(edge.callee);
        next.push(0);
      }
    }
  }
}
