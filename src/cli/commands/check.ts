/**
 * `vnet check <files|dirs...>`: checks specs and prints their diagnostics with code frames (or as
 * JSON). Exit 0 clean, 1 errors (or an unmet `// expect:` header), 2 usage.
 */
import * as path from "node:path";
import { hasErrors, type Diagnostic, type Range } from "../../diagnostics/diagnostic.js";
import { LineIndex } from "../../diagnostics/location.js";
import { checkFiles, type CheckResult } from "../../semantics/check.js";
import { defineCommand } from "../command.js";
import { declaredExpectation, expandSpecPaths, lineIndexes, renderDiagnostics, shownPath } from "../util.js";

const NO_TEXT = new LineIndex("");

/** A diagnostic as JSON: paths as the text output shows them, 1-based positions beside the offsets, for related locations too. */
function jsonDiagnostic(d: Diagnostic, lineIndexOf: (file: string) => LineIndex | undefined) {
  const at = (file: string, range: Range, index = lineIndexOf(file)) => ({
    file: shownPath(file),
    range,
    ...(index ? { start: index.positionAt(range.start), end: index.positionAt(range.end) } : {}),
  });
  const { related, ...rest } = d;
  // The diagnostic's own location always has a position, as in the text report: line 1 column 1 in a file without text (a FIFO, a link loop).
  return {
    ...rest,
    ...at(d.file, d.range, lineIndexOf(d.file) ?? NO_TEXT),
    ...(related?.length ? { related: related.map((r) => ({ message: r.message, ...at(r.file, r.range) })) } : {}),
  };
}

export const command = defineCommand({
  name: "check",
  usage: "check <files|dirs...> [--format text|json] [--root DIR]",
  description:
    "Checks specs (directories: every .vnet file under them) and prints each problem as file:line:col, its code and a code frame. Exit 0 clean, 1 errors, 2 usage.",
  positional: { names: "<files|dirs...>", min: 1 },
  flags: {
    format: { type: "choice", choices: ["text", "json"], default: "text", doc: "output format" },
    root: {
      type: "string",
      value: "DIR",
      doc: "the project root relative imports may not leave (default: the nearest folder above the spec with vnet.json, package.json or .git)",
    },
  },
  run({ positional, flags }, { out, color }) {
    const files = expandSpecPaths(positional);
    // Each file is checked as its own entry so one file's failure cannot hide another's.
    const shown: Diagnostic[] = [];
    const all: Diagnostic[] = [];
    const results: CheckResult[] = [];
    const expectations: { file: string; expected: string[]; actual: string[]; met: boolean }[] = [];
    for (const file of files) {
      const result = checkFiles([file], flags.root ? { root: flags.root } : {});
      results.push(result);
      // Diagnostics located in imported files count too: a block's error may only show when a network expands it.
      for (const d of result.diagnostics) all.push(d);
      const expected = declaredExpectation(result.program.modules.get(path.resolve(file))?.text);
      if (expected) {
        const actual = result.diagnostics.map((d) => d.code);
        const met = actual.join(",") === expected.join(",");
        expectations.push({ file: shownPath(file), expected, actual, met });
        if (met) continue;
      }
      for (const d of result.diagnostics) shown.push(d);
    }
    const dedupe = (ds: Diagnostic[]) => [...new Map(ds.map((d) => [`${d.file}:${d.range.start}:${d.range.end}:${d.code}:${d.message}`, d])).values()];
    const unique = dedupe(shown);
    const merged = results[0]
      ? { ...results[0], program: { ...results[0].program, modules: new Map(results.flatMap((r) => [...r.program.modules])) } }
      : undefined;
    const unmet = expectations.filter((e) => !e.met);
    if (flags.format === "json") {
      // One line index per file: a file's diagnostics share it.
      const lineIndexOf = merged ? lineIndexes(merged) : () => undefined;
      out(JSON.stringify({ files: files.length, diagnostics: dedupe(all).map((d) => jsonDiagnostic(d, lineIndexOf)), expectations }, null, 2));
    } else {
      if (unique.length && merged) out(renderDiagnostics(unique, merged, color));
      for (const e of unmet) out(`${e.file}: expected diagnostics [${e.expected.join(", ")}] but got [${e.actual.join(", ")}]`);
      const errors = unique.filter((d) => d.severity === "error").length;
      const warnings = unique.filter((d) => d.severity === "warning").length;
      const met = expectations.length - unmet.length;
      out(
        `${unique.length || unmet.length ? "\n" : ""}checked ${files.length} file(s): ${errors} error(s), ${warnings} warning(s)${expectations.length ? `, ${met} of ${expectations.length} expected-diagnostic case(s) met` : ""}`,
      );
    }
    return hasErrors(unique) || unmet.length > 0 ? 1 : 0;
  },
});
