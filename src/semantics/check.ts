/**
 * The checker's entry point: load files, run the static rules, elaborate every network, and
 * return the checked networks with sorted, de-duplicated diagnostics.
 */
import { dedupeDiagnostics, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Checker } from "./elaborate.js";
import type { CheckedNetwork } from "./network.js";
import { loadProgram, type Host, type Program } from "./program.js";
import { blockRecursionRule } from "./rules/block-recursion.js";
import { duplicateNameRule } from "./rules/duplicate-name.js";
import { importCycleRule } from "./rules/import-cycle.js";
import { unknownNameStaticRule } from "./rules/unknown-name-static.js";
import { unusedDefinitionRule } from "./rules/unused-block.js";

export interface CheckResult {
  readonly program: Program;
  /** Every network of the entry files, in source order (undefined where elaboration failed). */
  readonly networks: readonly CheckedNetwork[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Checks a loaded program. Never throws on user input. */
export function checkProgram(program: Program): CheckResult {
  const checker = new Checker(program);
  importCycleRule(checker);
  duplicateNameRule(checker);
  blockRecursionRule(checker);
  const networks: CheckedNetwork[] = [];
  for (const module of program.modules.values()) {
    for (const item of module.ast.items) {
      if (item.kind !== "Network" || !item.name.name) continue;
      const network = checker.checkNetwork(item, module);
      if (network && program.entries.includes(module.file)) networks.push(network);
    }
  }
  // A block's binding is unused only if no expansion of the block read it (branches differ per call).
  for (const binding of checker.blockBindings.values()) {
    if (binding.used || binding.name.startsWith("_")) continue;
    checker.report("VN042", "warning", `\`${binding.name}\` is never used`, binding.origin.file, binding.origin.range, { hint: "remove it, or prefix it with `_` to keep it" });
  }
  unknownNameStaticRule(checker);
  unusedDefinitionRule(checker);
  // Diagnostics in imported files are reported where they are, once.
  const diagnostics = sortDiagnostics(dedupeDiagnostics([...program.diagnostics, ...checker.diagnostics]));
  return { program, networks, diagnostics };
}

/** Loads and checks spec files from disk (or from a host, for editors). */
export function checkFiles(files: readonly string[], options: { root?: string; host?: Host } = {}): CheckResult {
  return checkProgram(loadProgram(files, options));
}
