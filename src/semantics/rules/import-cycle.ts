/** VN032 import-cycle: files that import each other (directly or through others). */
import type { CheckContext } from "../context.js";

export function importCycleRule(context: CheckContext): void {
  const modules = context.program.modules;
  // Each file's imports that resolved, as (import statement, target) pairs.
  const edges = new Map<string, { range: { start: number; end: number }; target: string }[]>();
  for (const module of modules.values()) {
    const out: { range: { start: number; end: number }; target: string }[] = [];
    module.ast.items.forEach((item, index) => {
      const target = module.imports.get(index);
      if (item.kind === "Import" && target) out.push({ range: item.path.range, target });
    });
    edges.set(module.file, out);
  }
  // Depth-first search with an explicit stack: a long chain of imports must not exhaust the call stack.
  const state = new Map<string, "visiting" | "done">();
  for (const root of modules.keys()) {
    if (state.has(root)) continue;
    const path = [root];
    const next = [0];
    state.set(root, "visiting");
    while (path.length > 0) {
      const file = path[path.length - 1]!;
      const edge = edges.get(file)?.[next[next.length - 1]!++];
      if (!edge) {
        state.set(file, "done");
        path.pop();
        next.pop();
        continue;
      }
      const s = state.get(edge.target);
      if (s === "visiting") {
        const cycle = [...path.slice(path.indexOf(edge.target)), edge.target].map((f) => f.split(/[\\/]/).pop()).join(" -> ");
        context.report("VN032", "error", `import cycle: ${cycle}`, file, edge.range, { hint: "move the shared blocks into a third file that both import" });
      } else if (s === undefined) {
        state.set(edge.target, "visiting");
        path.push(edge.target);
        next.push(0);
      }
    }
  }
}
