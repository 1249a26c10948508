/**
 * VN010 unknown-name / VN011 unknown-operator for blocks no network expands (library files):
 * without concrete arguments their shapes cannot be inferred, but their names can be resolved,
 * by the same scope provider elaboration uses (statement order and loop scopes included).
 */
import { FUNCTIONS, OPERATORS } from "../../ops/catalogue.js";
import type * as A from "../../syntax/ast.js";
import { blockExprs, forEachExprInLoops, forEachStage } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";
import { unknownNameHint } from "../evaluate.js";
import { didYouMean, operatorIdeaHint } from "../suggest.js";

export function unknownNameStaticRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    const scope = context.scopeOf(module.file);
    for (const item of module.ast.items) {
      if (item.kind !== "Block" || context.expandedBlocks.has(item)) continue;
      for (const e of blockExprs(item)) {
        const callees = new Set<A.Expr>();
        forEachExprInLoops(e, (node, loops) => {
          if (node.kind === "Call") {
            callees.add(node.callee);
            if (node.callee.kind === "Name" && !FUNCTIONS.has(node.callee.name)) {
              const hint = didYouMean(node.callee.name, FUNCTIONS.keys());
              context.report("VN011", "error", `unknown function \`${node.callee.name}\``, module.file, node.callee.range, hint ? { hint } : {});
            }
          }
          if (node.kind !== "Name" || callees.has(node)) return;
          const where = { container: item, loops };
          const resolution = scope.resolve(node.name, node.range.start, where);
          if (resolution && resolution.kind !== "later") return;
          const hint = unknownNameHint(context, scope, node.name, node.range.start, where, resolution);
          context.report("VN010", "error", `unknown name \`${node.name}\``, module.file, node.range, hint ? { hint } : {});
        });
        forEachStage(e, (stage) => {
          if (stage.kind !== "CallStage") return;
          const name = stage.callee.name;
          if (!name || OPERATORS.has(name)) return;
          if (context.lookupTop(module.file, name)?.definition?.kind === "block" || scope.imports.has(name)) return;
          const hint = operatorIdeaHint(name) ?? context.suggest(name, () => [...OPERATORS.keys(), ...scope.topLevel.keys()]);
          context.report("VN011", "error", `unknown operator or block \`${name}\``, module.file, stage.callee.range, hint ? { hint } : {});
        });
      }
    }
  }
}
