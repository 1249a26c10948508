/** VN016 duplicate-name: two top-level definitions, two parameters or two imports with one name. */
import type * as A from "../../syntax/ast.js";
import type { Checker } from "../elaborate.js";

export function duplicateNameRule(checker: Checker): void {
  for (const module of checker.program.modules.values()) {
    const seen = new Map<string, A.Ident>();
    const claim = (id: A.Ident, what: string) => {
      if (!id.name) return;
      const first = seen.get(id.name);
      if (first) {
        checker.report("VN016", "error", `\`${id.name}\` is already defined in this file (${what})`, module.file, id.range, {
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
      const params = new Map<string, A.Ident>();
      for (const p of item.params) {
        if (params.has(p.name.name)) checker.report("VN016", "error", `parameter \`${p.name.name}\` appears twice`, module.file, p.name.range);
        params.set(p.name.name, p.name);
      }
      let defaultSeen = false;
      for (const p of item.params) {
        if (p.defaultValue) defaultSeen = true;
        else if (defaultSeen) {
          checker.report("VN013", "error", `parameter \`${p.name.name}\` has no default but follows one that does`, module.file, p.name.range, {
            hint: "put parameters with defaults last",
          });
        }
      }
    }
  }
}
