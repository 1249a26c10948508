/** VN013 parameter-defaults: a block parameter without a default after one with a default (it could never be given positionally). */
import type { CheckContext } from "../context.js";

export function parameterDefaultsRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    for (const item of module.ast.items) {
      if (item.kind !== "Block") continue;
      let defaultSeen = false;
      for (const p of item.params) {
        if (p.defaultValue) defaultSeen = true;
        else if (defaultSeen) {
          context.report("VN013", "error", `parameter \`${p.name.name}\` has no default but follows one that does`, module.file, p.name.range, {
            hint: "put parameters with defaults last",
          });
        }
      }
    }
  }
}
