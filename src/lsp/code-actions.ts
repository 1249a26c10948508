/**
 * Quick fixes. The checker's "did you mean `x`?" hints name the replacement for the diagnostic's
 * range; a diagnostic that carries an explicit fix is applied as given.
 */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { DiagnosticData } from "./diagnostics.js";
import { lineIndexOf, toLspRange, toOffset } from "./positions.js";

const DID_YOU_MEAN = /did you mean `([^`]+)`\?/;

/** Quick fixes for the vnet diagnostics in `diagnostics` (the ones the editor sends with the request). */
export function quickFixes(uri: string, text: string, diagnostics: readonly LspDiagnostic[]): CodeAction[] {
  const lines = lineIndexOf(text);
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== "vnet") continue;
    const data = (diagnostic.data ?? {}) as DiagnosticData;
    if (data.fix) {
      actions.push({
        title: data.fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: true,
        edit: { changes: { [uri]: [{ range: toLspRange(lines, { start: data.fix.start, end: data.fix.end }), newText: data.fix.text }] } },
      });
      continue;
    }
    const match = DID_YOU_MEAN.exec(data.hint ?? diagnostic.message);
    if (!match) continue;
    const suggestion = match[1]!;
    const start = toOffset(lines, diagnostic.range.start);
    const end = toOffset(lines, diagnostic.range.end);
    const current = text.slice(start, end);
    // Enumeration values are strings: keep the quotes when the range covers a string literal.
    const newText = current.startsWith('"') && !suggestion.startsWith('"') ? JSON.stringify(suggestion) : suggestion;
    if (newText === current) continue;
    actions.push({
      title: `Change to \`${newText}\``,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: diagnostic.range, newText }] } },
    });
  }
  return actions;
}
