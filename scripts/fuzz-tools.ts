/**
 * The editor-facing half of the fuzzer: for a mutated spec (scripts/fuzz-lib.ts), the formatter and
 * the language server must not throw, hang or lie. Per case:
 * - hover, completion and go-to-definition at random offsets (and the ends of the text) return
 *   without an exception, and the workspace check reports no internal error;
 * - a text that parses formats; formatting it again changes nothing, and the formatted text checks
 *   to the same diagnostic codes and the same per-network parameter and MAC totals; a text that
 *   does not parse (or nests deeper than the printer takes, VN004) is refused with
 *   `VnetSyntaxError`, never another exception.
 *
 * Shared by `test/fuzz-tools.test.ts` (a fixed-seed smoke run) and `bench/fuzz-tools.ts` (long runs).
 */
import { pathToFileURL } from "node:url";
import { completionsAt } from "../src/lsp/completion.js";
import { hoverAt } from "../src/lsp/hover.js";
import { definitionAt } from "../src/lsp/navigation.js";
import { Workspace } from "../src/lsp/workspace.js";
import { formatSpec } from "../src/prettier/format.js";
import { VnetSyntaxError } from "../src/prettier/plugin.js";
import { totals } from "../src/semantics/network.js";
import { parseSpec } from "../src/syntax/parse.js";
import { checkInMemory, describeError, diagnosticProblems, mulberry32, type CorpusFile, type FuzzCase } from "./fuzz-lib.js";

export interface ToolsResult {
  readonly ms: number;
  /** Whether the case's text parsed (and so was formatted). */
  readonly parsed: boolean;
  readonly problems: readonly string[];
}

/** Diagnostic codes and network totals: what formatting must leave as it was. */
function meaning(file: string, text: string, corpus: readonly CorpusFile[], root: string): string[] {
  const { diagnostics, networks } = checkInMemory(file, text, corpus, root);
  return [
    ...diagnostics.map((d) => `${d.severity} ${d.code}`),
    ...networks.map((n) => {
      if (!n) return "network: not elaborated";
      const t = totals(n);
      return `network ${n.name}: ${t.trainable} trainable, ${t.frozen} frozen, ${t.macs} MACs`;
    }),
  ];
}

/** Runs the language-server requests and the formatter on one case. */
export async function runToolsCase(fuzzCase: FuzzCase, corpus: readonly CorpusFile[], offsets = 6): Promise<ToolsResult> {
  const started = performance.now();
  const problems: string[] = [];
  const { text, base } = fuzzCase;
  const rng = mulberry32(fuzzCase.seed ^ 0x5f3759df);
  const workspace = new Workspace();
  const file = workspace.setOpen(pathToFileURL(base.file).href, text, 1);
  const analysis = workspace.analyze(file);
  if (analysis.internalError) problems.push(`workspace check: internal error ${analysis.internalError.split("\n")[0]}`);
  const texts = new Map(corpus.map((c) => [c.file, c.text]));
  texts.set(file, text);
  problems.push(...diagnosticProblems(analysis.result.diagnostics, texts).map((p) => `workspace check: ${p}`));
  const points = [0, text.length, ...Array.from({ length: offsets }, () => Math.floor(rng() * (text.length + 1)))];
  for (const offset of points) {
    for (const [name, request] of [
      ["hover", hoverAt],
      ["completion", completionsAt],
      ["definition", definitionAt],
    ] as const) {
      try {
        request(workspace, file, offset);
      } catch (error) {
        problems.push(`${name} at offset ${offset} threw ${describeError(error)}`);
      }
    }
  }
  const parsed = parseSpec(text, file).diagnostics.every((d) => d.severity !== "error");
  try {
    const formatted = await formatSpec(text);
    if (!parsed) problems.push("format accepted a text with syntax errors");
    const again = await formatSpec(formatted);
    if (again !== formatted) problems.push(`format is not idempotent: ${JSON.stringify(firstDifference(formatted, again))}`);
    const before = meaning(file, text, corpus, base.root);
    const after = meaning(file, formatted, corpus, base.root);
    if (before.join("\n") !== after.join("\n")) {
      problems.push(`format changed the meaning: ${JSON.stringify(before.slice(0, 6))} -> ${JSON.stringify(after.slice(0, 6))}`);
    }
  } catch (error) {
    if (!(error instanceof VnetSyntaxError)) problems.push(`format threw ${describeError(error)}`);
    // A text that parses may still nest deeper than the printer takes (MAX_FORMAT_DEPTH): VN004.
    else if (parsed && error.code !== "VN004") problems.push(`format refused a text that parses: ${error.message.split("\n")[0]}`);
  }
  return { ms: performance.now() - started, parsed, problems };
}

/** Where two texts first differ, with a little context on each side. */
function firstDifference(a: string, b: string): { at: number; a: string; b: string } {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return { at: i, a: a.slice(Math.max(0, i - 20), i + 20), b: b.slice(Math.max(0, i - 20), i + 20) };
}
