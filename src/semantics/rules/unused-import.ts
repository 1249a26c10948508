/** VN043 unused-import: an imported name nothing in the file uses (a warning). */
import { stageCalleeNames } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";
import { importedDefinition } from "../scope.js";

export function unusedImportRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    const used = stageCalleeNames(module.ast);
    const scope = context.scopeOf(module.file);
    module.ast.items.forEach((item, index) => {
      if (item.kind !== "Import" || module.imports.get(index) === undefined) return;
      for (const name of item.names) {
        const imported = scope.imports.get(name.name);
        if (!imported || !importedDefinition(imported, (file) => (context.program.modules.has(file) ? context.scopeOf(file) : undefined))) continue;
        if (used.has(name.name) || context.importUsed(module.file, name.name)) continue;
        context.report("VN043", "warning", `\`${name.name}\` is imported but never used`, module.file, name.range);
      }
    });
  }
}
