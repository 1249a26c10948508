/**
 * VN044 unused-parameter: a block parameter that no expression of the block mentions (a warning).
 * Decided on the text, like VN042: a parameter read only in a branch some call does not take is
 * still used; `_name` keeps one on purpose. When no call in the program passes it, the warning
 * carries the edit that removes it (with its comma), for the editor's quick fix.
 */
import type { Range } from "../../diagnostics/diagnostic.js";
import type * as A from "../../syntax/ast.js";
import { blockExprs, forEachExpr, forEachStage, statementExprs } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";

export function unusedParameterRule(context: CheckContext): void {
  let calls: Map<A.BlockDecl, A.CallStage[]> | undefined;
  for (const module of context.program.modules.values()) {
    for (const block of module.ast.items) {
      if (block.kind !== "Block") continue;
      const mentioned = new Set<string>();
      for (const e of blockExprs(block))
        forEachExpr(e, (node) => {
          if (node.kind === "Name") mentioned.add(node.name);
        });
      block.params.forEach((param, index) => {
        const name = param.name.name;
        if (!name || mentioned.has(name) || name.startsWith("_")) return;
        calls ??= blockCalls(context);
        const passed = (calls.get(block) ?? []).some((call) => passes(call, param, index));
        context.report("VN044", "warning", `parameter \`${name}\` of block \`${block.name.name}\` is never used`, module.file, param.name.range, {
          hint: passed
            ? "remove it here and its argument at the calls that pass it, or prefix it with `_` to keep it"
            : "remove it, or prefix it with `_` to keep it",
          ...(passed ? {} : { fix: { range: removalRange(block.params, index), text: "", title: `Remove the unused parameter \`${name}\`` } }),
        });
      });
    }
  }
}

/** Every call of each block in the program, from its own file and from the files that import it. */
function blockCalls(context: CheckContext): Map<A.BlockDecl, A.CallStage[]> {
  const out = new Map<A.BlockDecl, A.CallStage[]>();
  for (const module of context.program.modules.values()) {
    const visit = (e: A.Expr) =>
      forEachStage(e, (stage) => {
        if (stage.kind !== "CallStage") return;
        const node = context.peekTop(module.file, stage.callee.name)?.definition?.node;
        if (node?.kind !== "Block") return;
        const list = out.get(node) ?? [];
        list.push(stage);
        out.set(node, list);
      });
    for (const item of module.ast.items) {
      if (item.kind === "Block") blockExprs(item).forEach(visit);
      else if (item.kind === "Network") statementExprs(item.body).forEach(visit);
    }
  }
  return out;
}

/** Whether a call gives the parameter a value: by name, or positionally at its place or beyond. */
function passes(call: A.CallStage, param: A.Param, index: number): boolean {
  const args = call.args ?? [];
  return args.some((a) => a.name?.name === param.name.name) || args.filter((a) => !a.name).length > index;
}

/** The parameter's text and the comma that separates it from its neighbour. */
function removalRange(params: readonly A.Param[], index: number): Range {
  const param = params[index]!;
  if (index + 1 < params.length) return { start: param.range.start, end: params[index + 1]!.range.start };
  if (index > 0) return { start: params[index - 1]!.range.end, end: param.range.end };
  return param.range;
}
