/** VN032 import-cycle: files that import each other (directly or through others). */
import type { Checker } from "../elaborate.js";

export function importCycleRule(checker: Checker): void {
  const modules = checker.program.modules;
  const state = new Map<string, "visiting" | "done">();
  const visit = (file: string, path: string[]) => {
    state.set(file, "visiting");
    const module = modules.get(file);
    if (module) {
      module.ast.items.forEach((item, index) => {
        if (item.kind !== "Import") return;
        const target = module.imports.get(index);
        if (!target) return;
        if (state.get(target) === "visiting") {
          const cycle = [...path.slice(path.indexOf(target)), target].map((f) => f.split(/[\\/]/).pop()).join(" -> ");
          checker.report("VN032", "error", `import cycle: ${cycle}`, file, item.path.range, { hint: "move the shared blocks into a third file that both import" });
        } else if (!state.has(target)) visit(target, [...path, target]);
      });
    }
    state.set(file, "done");
  };
  for (const file of modules.keys()) if (!state.has(file)) visit(file, [file]);
}
