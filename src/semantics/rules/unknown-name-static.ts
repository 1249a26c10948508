/**
 * VN010 unknown-name / VN011 unknown-operator for blocks no network expands (library files):
 * without concrete arguments their shapes cannot be inferred, but their names can be resolved.
 */
import { FUNCTIONS, OPERATORS } from "../../ops/catalogue.js";
import type { Checker } from "../elaborate.js";
import { didYouMean } from "../suggest.js";
import { blockExprs, forEachExpr, forEachStage } from "./walk.js";

export function unknownNameStaticRule(checker: Checker): void {
  for (const module of checker.program.modules.values()) {
    const symbols = checker.symbols.get(module.file)!;
    for (const item of module.ast.items) {
      if (item.kind !== "Block" || checker.expandedBlocks.has(item)) continue;
      const defined = new Set<string>([...symbols.own.keys(), ...symbols.imported.keys()]);
      for (const p of item.params) defined.add(p.name.name);
      for (const s of item.body) {
        if (s.kind === "Input") defined.add(s.name.name);
        if (s.kind === "Binding") s.names.forEach((n) => defined.add(n.name));
      }
      const exprs = blockExprs(item);
      for (const e of exprs) forEachStage(e, (stage) => {
        if (stage.kind === "ForStage") defined.add(stage.variable.name);
      });
      for (const e of exprs) {
        const callees = new Set<unknown>();
        forEachExpr(e, (node) => {
          if (node.kind === "Call") callees.add(node.callee);
        });
        forEachExpr(e, (node) => {
          if (node.kind === "Name" && !defined.has(node.name) && !callees.has(node)) {
            checker.report("VN010", "error", `unknown name \`${node.name}\``, module.file, node.range, { ...(didYouMean(node.name, defined) ? { hint: didYouMean(node.name, defined)! } : {}) });
          }
          if (node.kind === "Call" && node.callee.kind === "Name" && !FUNCTIONS.has(node.callee.name)) {
            checker.report("VN011", "error", `unknown function \`${node.callee.name}\``, module.file, node.callee.range, { ...(didYouMean(node.callee.name, FUNCTIONS.keys()) ? { hint: didYouMean(node.callee.name, FUNCTIONS.keys())! } : {}) });
          }
        });
        forEachStage(e, (stage) => {
          if (stage.kind !== "CallStage") return;
          const name = stage.callee.name;
          if (!name || OPERATORS.has(name)) return;
          const symbol = symbols.resolve(name);
          if (symbol?.kind === "block" || symbols.imported.has(name)) return;
          checker.report("VN011", "error", `unknown operator or block \`${name}\``, module.file, stage.callee.range, {
            ...(didYouMean(name, [...OPERATORS.keys(), ...symbols.own.keys()]) ? { hint: didYouMean(name, [...OPERATORS.keys(), ...symbols.own.keys()])! } : {}),
          });
        });
      }
    }
  }
}
