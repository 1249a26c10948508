/**
 * LSP positions (0-based line and UTF-16 character) <-> vnet offsets. A thin adapter over the
 * one converter, `LineIndex`, which is 1-based: the +1/-1 lives here and nowhere else.
 */
import type { Range as LspRange, Position as LspPosition } from "vscode-languageserver";
import type { Range } from "../diagnostics/diagnostic.js";
import { LineIndex } from "../diagnostics/location.js";

/** The last few texts' indexes: one request converts many ranges of the same text. */
const byText = new Map<string, LineIndex>();

/** The line index of a text; the last few texts are kept so repeated requests stay cheap. */
export function lineIndexOf(text: string): LineIndex {
  let index = byText.get(text);
  if (!index) {
    index = new LineIndex(text);
    if (byText.size > 32) byText.delete(byText.keys().next().value!);
    byText.set(text, index);
  }
  return index;
}

export function toLspPosition(index: LineIndex, offset: number): LspPosition {
  const p = index.positionAt(offset);
  return { line: p.line - 1, character: p.column - 1 };
}

export function toLspRange(index: LineIndex, range: Range): LspRange {
  return { start: toLspPosition(index, range.start), end: toLspPosition(index, Math.max(range.start, range.end)) };
}

export function toOffset(index: LineIndex, position: LspPosition): number {
  return index.offsetAt({ line: position.line + 1, column: position.character + 1 });
}
