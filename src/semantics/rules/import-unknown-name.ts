/** VN034 import-unknown-name: an imported name that the imported file does not define. */
import type { CheckContext } from "../context.js";
import { listNames } from "../suggest.js";

export function importUnknownNameRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    module.ast.items.forEach((item, index) => {
      if (item.kind !== "Import") return;
      const target = module.imports.get(index);
      if (!target || !context.program.modules.has(target)) return;
      const defined = context.scopeOf(target).topLevel;
      for (const name of item.names) {
        if (!name.name || defined.has(name.name)) continue;
        context.report("VN034", "error", `\`${item.path.value}\` does not define \`${name.name}\``, module.file, name.range, {
          hint: context.suggest(name.name, () => defined.keys()) ?? `it defines: ${listNames(defined.keys()) || "nothing"}`,
        });
      }
    });
  }
}
