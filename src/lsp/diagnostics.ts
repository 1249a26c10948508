/**
 * Checker diagnostics -> LSP diagnostics for one open file. A file sees its own problems from
 * every check that read it (its own, and those of open files importing it, which expand its
 * blocks with real arguments); problems in files it imports are surfaced where this file is
 * involved: at the block call that caused them, or else on the import that brings them in.
 */
import * as path from "node:path";
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type DiagnosticRelatedInformation } from "vscode-languageserver";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Program } from "../semantics/program.js";
import { lineIndexOf, toLspRange } from "./positions.js";
import type { Analysis, Workspace } from "./workspace.js";

/** Extra data carried on each published diagnostic, read back by code actions. */
export interface DiagnosticData {
  readonly hint?: string;
  readonly fix?: { readonly start: number; readonly end: number; readonly text: string; readonly title: string };
}

const UNUSED_CODES = new Set(["VN040", "VN041", "VN042", "VN043", "VN044"]);

/** The diagnostics to publish for an open file, from every current check that read it. */
export function diagnosticsFor(file: string, workspace: Workspace): LspDiagnostic[] {
  const text = workspace.textOf(file) ?? "";
  const found: Diagnostic[] = [];
  for (const analysis of workspace.allAnalyses()) {
    if (analysis.file !== file && !analysis.result.program.modules.has(file)) continue;
    // A module read from a different text than the buffer's is stale: its ranges would be wrong.
    const seen = analysis.result.program.modules.get(file)?.text ?? analysis.text;
    if (seen !== text) continue;
    for (const d of analysis.result.diagnostics) if (d.file === file) found.push(d);
    if (analysis.file === file) for (const d of foreignDiagnostics(analysis)) found.push(d);
  }
  const unique = new Map<string, Diagnostic>();
  for (const d of found) unique.set(`${d.range.start}:${d.range.end}:${d.code}:${d.message}`, d);
  return [...unique.values()].map((d) => toLspDiagnostic(d, text, workspace, programOf(workspace, file)));
}

function programOf(workspace: Workspace, file: string): Program | undefined {
  return workspace.allAnalyses().find((a) => a.file === file)?.result.program;
}

/** Problems of imported files, re-homed onto this file's call sites or imports. */
function foreignDiagnostics(analysis: Analysis): Diagnostic[] {
  const { file, result } = analysis;
  const program = result.program;
  const entry = program.modules.get(file);
  if (!entry) return [];
  const out: Diagnostic[] = [];
  const perImport = new Map<number, Diagnostic[]>();
  const viaImport = importReachability(program, file);
  for (const d of result.diagnostics) {
    if (d.file === file) continue;
    const where = `${path.basename(d.file)}:${lineIndexOf(program.modules.get(d.file)?.text ?? "").positionAt(d.range.start).line}`;
    // The outermost call in this file: call notes follow a fusion's input notes, outermost last.
    const callSite = [...(d.related ?? [])].reverse().find((r) => r.file === file);
    if (callSite) {
      // The hint and fix name text at the original place, not at this call site: fold them into the message.
      const { hint: _hint, fix: _fix, ...rest } = d;
      out.push({
        ...rest,
        file,
        range: callSite.range,
        message: `${d.message} (in ${where})${d.hint ? `\n${d.hint}` : ""}`,
        related: [{ message: d.message, file: d.file, range: d.range }, ...(d.related ?? []).filter((r) => r !== callSite)],
      });
      continue;
    }
    if (d.severity !== "error") continue;
    const importIndex = viaImport.get(d.file);
    if (importIndex === undefined) continue;
    const list = perImport.get(importIndex) ?? [];
    list.push(d);
    perImport.set(importIndex, list);
  }
  for (const [index, list] of perImport) {
    const item = entry.ast.items[index];
    if (item?.kind !== "Import") continue;
    const first = list[0]!;
    out.push({
      code: first.code,
      severity: "error",
      message: `\`${item.path.value}\` has ${list.length} error(s); the first: ${first.message}`,
      file,
      range: item.path.range,
      related: list.slice(0, 20).map((d) => ({ message: d.message, file: d.file, range: d.range })),
    });
  }
  return out;
}

/** For each file the entry reaches through its imports: the index of the entry's import that leads there. */
function importReachability(program: Program, file: string): Map<string, number> {
  const result = new Map<string, number>();
  const entry = program.modules.get(file);
  if (!entry) return result;
  for (const [index, target] of entry.imports) {
    if (!target) continue;
    const queue = [target];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (next === file || result.has(next)) continue;
      result.set(next, index);
      for (const t of program.modules.get(next)?.imports.values() ?? []) if (t) queue.push(t);
    }
  }
  return result;
}

function toLspDiagnostic(d: Diagnostic, text: string, workspace: Workspace, program: Program | undefined): LspDiagnostic {
  const index = lineIndexOf(text);
  const related: DiagnosticRelatedInformation[] = [];
  for (const r of d.related ?? []) {
    const relatedText = program?.modules.get(r.file)?.text ?? workspace.textOf(r.file);
    if (relatedText === undefined) continue;
    related.push({ message: r.message, location: { uri: workspace.uriOf(r.file), range: toLspRange(lineIndexOf(relatedText), r.range) } });
  }
  const data: DiagnosticData = {
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.fix ? { fix: { start: d.fix.range.start, end: d.fix.range.end, text: d.fix.text, title: d.fix.title } } : {}),
  };
  return {
    range: toLspRange(index, d.range),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : d.severity === "warning" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    code: d.code,
    source: "vnet",
    message: d.hint ? `${d.message}\n${d.hint}` : d.message,
    ...(UNUSED_CODES.has(d.code) ? { tags: [DiagnosticTag.Unnecessary] } : {}),
    ...(related.length ? { relatedInformation: related } : {}),
    data,
  };
}
