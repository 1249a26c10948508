/** VN016 duplicate-name: two top-level definitions, two imports or two parameters of a block with one name. */
import type * as A from "../../syntax/ast.js";
import type { CheckContext } from "../context.js";

export function duplicateNameRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    const seen = new Map<string, A.Ident>();
    const claim = (id: A.Ident, what: string) => {
      if (!id.name) return;
      const first = seen.get(id.name);
      if (first) {
        context.report("VN016", "error", `\`${id.name}\` is already defined in this file (${what})`, module.file, id.range, {
          related: [{ message: "first defined here", file: module.file, range: first.range }],
        });
      } else seen.set(id.name, id);
    };
    for (const item of module.ast.items) {
      if (item.kind === "Import") item.names.forEach((n) => claim(n, "imported"));
      else if (item.kind === "Block" || item.kind === "Network") claim(item.name, item.kind.toLowerCase());
      else item.names.forEach((n) => claim(n, "constant"));
    }
    for (const item of module.ast.items) {
      if (item.kind !== "Block") continue;
      const params = new Set<string>();
      for (const p of item.params) {
        if (params.has(p.name.name)) context.report("VN016", "error", `parameter \`${p.name.name}\` appears twice`, module.file, p.name.range);
        params.add(p.name.name);
      }
    }
  }
}
