/**
 * The checker's entry point: load files, run the declaration rules, elaborate every network (each
 * runs the network rules), run the usage rules, and return the checked networks with sorted,
 * de-duplicated diagnostics, at most MAX_DIAGNOSTICS_PER_FILE per file.
 */
import { capDiagnostics, dedupeDiagnostics, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { Shape } from "../ops/values.js";
import { CheckContext } from "./context.js";
import { checkNetwork } from "./elaborate.js";
import type { CheckedNetwork } from "./network.js";
import { loadProgram, type Host, type Program } from "./program.js";
import { DECLARATION_RULES, USAGE_RULES } from "./rules/index.js";

const SYNTAX_CODES = new Set(["VN001", "VN002", "VN003", "VN004"]);

export interface CheckResult {
  readonly program: Program;
  /** Every network of the entry files, in source order (undefined where elaboration failed). */
  readonly networks: readonly CheckedNetwork[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Elaborates one entry network as if its inputs had other shapes (another clip length or frame
 * size, the same rank): how a spec's model is rebuilt to run beside a model exported at other
 * input shapes (`vnet weights import`). Layers whose arguments the spec computes from the input
 * (`x.frames`) follow; a `sampling` section written for the declared input may then disagree
 * with it (VN061).
 */
export interface InputResize {
  readonly network: string;
  /** New shapes (without batch) by input name. */
  readonly inputs: ReadonlyMap<string, Shape>;
}

/** Checks a loaded program. Never throws on user input. */
export function checkProgram(program: Program, options: { resize?: InputResize } = {}): CheckResult {
  const context = new CheckContext(program, options.resize);
  for (const rule of DECLARATION_RULES) rule(context);
  // A file that does not parse is reported by its syntax errors alone: checking the tree that
  // error recovery left behind would mostly report the same mistake again in other words.
  const broken = new Set(program.diagnostics.filter((d) => SYNTAX_CODES.has(d.code)).map((d) => d.file));
  const networks: CheckedNetwork[] = [];
  for (const module of program.modules.values()) {
    if (broken.has(module.file)) continue;
    for (const item of module.ast.items) {
      if (item.kind !== "Network" || !item.name.name) continue;
      const network = checkNetwork(context, item, module);
      if (network && program.entries.includes(module.file)) networks.push(network);
    }
  }
  for (const rule of USAGE_RULES) rule(context);
  // Diagnostics in imported files are reported where they are, once.
  const semantic = context.diagnostics.filter((d) => !broken.has(d.file));
  const diagnostics = capDiagnostics(sortDiagnostics(dedupeDiagnostics([...program.diagnostics, ...semantic])));
  return { program, networks, diagnostics };
}

/** Loads and checks spec files from disk (or from a host, for editors). */
export function checkFiles(files: readonly string[], options: { root?: string; host?: Host; resize?: InputResize } = {}): CheckResult {
  return checkProgram(loadProgram(files, options), options.resize ? { resize: options.resize } : {});
}
