/** Document symbols: the outline of a file (imports, constants, blocks, networks and their contents). */
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { LineIndex } from "../diagnostics/location.js";
import type { Range } from "../diagnostics/diagnostic.js";
import type * as A from "../syntax/ast.js";
import { lineIndexOf, toLspRange } from "./positions.js";
import { sourceText } from "./docs.js";

/** The outline of a parsed file. Nodes the parser could not name are left out. */
export function documentSymbols(text: string, ast: A.SpecFile): DocumentSymbol[] {
  const lines = lineIndexOf(text);
  const out: DocumentSymbol[] = [];
  for (const item of ast.items) {
    switch (item.kind) {
      case "Import":
        if (item.path.value)
          out.push(symbol(lines, `import "${item.path.value}"`, SymbolKind.Package, item.range, item.path.range, item.names.map((n) => n.name).join(", ")));
        break;
      case "Binding":
        for (const n of item.names)
          if (n.name) out.push(symbol(lines, n.name, SymbolKind.Constant, item.range, n.range, sourceText(text, item.value.range, 60)));
        break;
      case "Block":
        if (item.name.name) {
          const params = item.params.map((p) => p.name.name).join(", ");
          out.push(symbol(lines, item.name.name, SymbolKind.Function, item.range, item.name.range, `(${params})`, statementSymbols(lines, text, item.body)));
        }
        break;
      case "Network":
        if (item.name.name)
          out.push(symbol(lines, item.name.name, SymbolKind.Class, item.range, item.name.range, "network", statementSymbols(lines, text, item.body)));
        break;
    }
  }
  return out;
}

function statementSymbols(lines: LineIndex, text: string, body: readonly A.Statement[]): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const s of body) {
    switch (s.kind) {
      case "Input":
        if (s.name.name) out.push(symbol(lines, s.name.name, SymbolKind.Variable, s.range, s.name.range, "input"));
        break;
      case "Stream":
        if (s.name.name) out.push(symbol(lines, s.name.name, SymbolKind.Event, s.range, s.name.range, "stream"));
        break;
      case "Binding":
        for (const n of s.names) if (n.name) out.push(symbol(lines, n.name, SymbolKind.Variable, s.range, n.range, sourceText(text, s.value.range, 60)));
        break;
      case "Output":
        out.push(
          symbol(
            lines,
            "output",
            SymbolKind.Field,
            s.range,
            { start: s.range.start, end: s.range.start + "output".length },
            sourceText(text, { start: s.range.start + 6, end: s.range.end }, 60),
          ),
        );
        break;
      case "Section":
        if (s.name.name) out.push(sectionSymbol(lines, text, s));
        break;
      case "Inflate":
        out.push(symbol(lines, `inflate ${s.source.name}`, SymbolKind.Namespace, s.range, s.source.name ? s.source.range : s.range, "inflation"));
        break;
    }
  }
  return out;
}

function sectionSymbol(lines: LineIndex, text: string, section: A.Section): DocumentSymbol {
  const children: DocumentSymbol[] = [];
  for (const entry of section.entries) {
    if (entry.kind === "Section") {
      if (entry.name.name) children.push(sectionSymbol(lines, text, entry));
    } else {
      const key = entry.names[0];
      if (key?.name) children.push(symbol(lines, key.name, SymbolKind.Property, entry.range, key.range, sourceText(text, entry.value.range, 40)));
    }
  }
  return symbol(lines, section.name.name, SymbolKind.Namespace, section.range, section.name.range, "section", children);
}

function symbol(
  lines: LineIndex,
  name: string,
  kind: SymbolKind,
  range: Range,
  selection: Range,
  detail?: string,
  children?: DocumentSymbol[],
): DocumentSymbol {
  // LSP requires the selection inside the full range; recovered trees do not always guarantee it.
  const full = { start: Math.min(range.start, selection.start), end: Math.max(range.end, selection.end) };
  return {
    name,
    kind,
    range: toLspRange(lines, full),
    selectionRange: toLspRange(lines, selection),
    ...(detail ? { detail } : {}),
    ...(children && children.length ? { children } : {}),
  };
}
