/**
 * VN042 unused-binding: a binding no expression of its block or network mentions (a warning).
 * Decided on the text, not per expansion: a binding read only in a branch that a particular
 * call does not take is still used.
 */
import { blockExprs, forEachExpr, statementExprs } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";
import { NETWORK_PROPERTIES } from "../sections.js";

export function unusedBindingRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    for (const item of module.ast.items) {
      if (item.kind !== "Block" && item.kind !== "Network") continue;
      const exprs = item.kind === "Block" ? blockExprs(item) : statementExprs(item.body);
      const mentioned = new Set<string>();
      for (const e of exprs)
        forEachExpr(e, (node) => {
          if (node.kind === "Name") mentioned.add(node.name);
        });
      const exempt = item.kind === "Network" ? new Set<string>(NETWORK_PROPERTIES) : new Set<string>();
      for (const statement of item.body) {
        if (statement.kind !== "Binding") continue;
        for (const name of statement.names) {
          if (!name.name || mentioned.has(name.name) || exempt.has(name.name) || name.name.startsWith("_")) continue;
          context.report("VN042", "warning", `\`${name.name}\` is never used`, module.file, name.range, {
            hint: "remove it, or prefix it with `_` to keep it",
          });
        }
      }
    }
  }
}
