/** VN041 unused-block and VN043 unused-import: definitions nothing uses (warnings). */
import type * as A from "../../syntax/ast.js";
import type { Checker } from "../elaborate.js";
import { blockExprs, forEachStage, statementExprs } from "./walk.js";

export function unusedDefinitionRule(checker: Checker): void {
  const usedByName = new Map<string, Set<string>>();
  for (const module of checker.program.modules.values()) {
    const names = new Set<string>();
    const collect = (e: A.Expr) =>
      forEachStage(e, (stage) => {
        if (stage.kind === "CallStage") names.add(stage.callee.name);
      });
    for (const item of module.ast.items) {
      if (item.kind === "Block") blockExprs(item).forEach(collect);
      else if (item.kind === "Network") {
        statementExprs(item.body).forEach(collect);
        for (const s of item.body) if (s.kind === "Inflate") names.add(s.source.name);
      }
    }
    usedByName.set(module.file, names);
  }
  for (const module of checker.program.modules.values()) {
    // Library files (no network) export their blocks: only files with a network warn.
    const hasNetwork = module.ast.items.some((i) => i.kind === "Network");
    const used = usedByName.get(module.file)!;
    const symbols = checker.symbols.get(module.file)!;
    for (const item of module.ast.items) {
      if (item.kind === "Block" && hasNetwork && !used.has(item.name.name) && !checker.usedBlocks.has(item)) {
        checker.report("VN041", "warning", `block \`${item.name.name}\` is never used`, module.file, item.name.range, { hint: "apply it in a network (`x -> " + item.name.name + "(...)`) or remove it" });
      }
      if (item.kind === "Import" && module.imports.get(module.ast.items.indexOf(item)) !== undefined) {
        for (const name of item.names) {
          if (symbols.imported.get(name.name)?.symbol && !used.has(name.name) && !symbols.usedNames.has(name.name)) {
            checker.report("VN043", "warning", `\`${name.name}\` is imported but never used`, module.file, name.range);
          }
        }
      }
    }
  }
}
