/** VN030 block-recursion: blocks that (directly or through others) apply themselves never expand to a finite network. */
import type * as A from "../../syntax/ast.js";
import type { Checker } from "../elaborate.js";
import { blockExprs, forEachStage } from "./walk.js";

export function blockRecursionRule(checker: Checker): void {
  const blocks: { decl: A.BlockDecl; file: string }[] = [];
  for (const [file, symbols] of checker.symbols) for (const s of symbols.own.values()) if (s.kind === "block") blocks.push({ decl: s.decl, file });
  const edges = new Map<A.BlockDecl, { callee: A.BlockDecl; stage: A.CallStage; file: string }[]>();
  for (const { decl, file } of blocks) {
    const symbols = checker.symbols.get(file)!;
    const out: { callee: A.BlockDecl; stage: A.CallStage; file: string }[] = [];
    for (const e of blockExprs(decl)) {
      forEachStage(e, (stage) => {
        if (stage.kind !== "CallStage") return;
        const own = symbols.own.get(stage.callee.name) ?? symbols.imported.get(stage.callee.name)?.symbol;
        if (own?.kind === "block") out.push({ callee: own.decl, stage, file });
      });
    }
    edges.set(decl, out);
  }
  const state = new Map<A.BlockDecl, "visiting" | "done">();
  const reported = new Set<A.CallStage>();
  const visit = (block: A.BlockDecl, path: A.BlockDecl[]) => {
    state.set(block, "visiting");
    for (const edge of edges.get(block) ?? []) {
      const s = state.get(edge.callee);
      if (s === "visiting") {
        if (reported.has(edge.stage)) continue;
        reported.add(edge.stage);
        const cycle = [...path.slice(path.indexOf(edge.callee)), edge.callee].map((b) => b.name.name).join(" -> ");
        checker.report("VN030", "error", `block recursion: ${cycle}`, edge.file, edge.stage.callee.range, {
          hint: "a block cannot apply itself; repeat layers with `for i in 0..n { ... }` instead",
        });
      } else if (s === undefined) visit(edge.callee, [...path, edge.callee]);
    }
    state.set(block, "done");
  };
  for (const { decl } of blocks) if (!state.has(decl)) visit(decl, [decl]);
}
