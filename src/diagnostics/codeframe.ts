import type { Diagnostic } from "./diagnostic.js";
import { LineIndex } from "./location.js";

const MAX_FRAME_WIDTH = 160;

export interface FormatOptions {
  readonly color?: boolean;
  /** The line index of the diagnostic's own text, when the caller already has one. */
  readonly lineIndex?: LineIndex;
  /** Line indexes of other files, for related locations elsewhere ("comes from here" in an imported file). */
  readonly lineIndexOf?: (file: string) => LineIndex | undefined;
  /** How a path is shown (the CLI: relative to the working directory); every location uses it. */
  readonly showPath?: (file: string) => string;
}

/**
 * `path:line:col` of an offset in a file, in the one style every location of a report uses; just
 * `path` when the file's text is not at hand (a location is never a bare character offset).
 */
export function formatLocation(file: string, offset: number, index: LineIndex | undefined, showPath: (file: string) => string = (f) => f): string {
  if (!index) return showPath(file);
  const p = index.positionAt(offset);
  return `${showPath(file)}:${p.line}:${p.column}`;
}

/**
 * Renders `file:line:col  severity CODE  message`, a code frame of the offending line with a caret
 * run under the range, the hint, and each related location as a note with its `file:line:col`.
 */
export function formatDiagnostic(diagnostic: Diagnostic, sourceText: string | undefined, options: FormatOptions = {}): string {
  const color = options.color ?? false;
  const paint = (code: string, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const index = sourceText === undefined ? undefined : (options.lineIndex ?? new LineIndex(sourceText));
  const start = index?.positionAt(diagnostic.range.start) ?? { line: 1, column: 1 };
  const showPath = options.showPath ?? ((f: string) => f);
  const sevColor = diagnostic.severity === "error" ? "31" : diagnostic.severity === "warning" ? "33" : "36";
  const lines = [
    `${showPath(diagnostic.file)}:${start.line}:${start.column}  ${paint(sevColor, `${diagnostic.severity} ${diagnostic.code}`)}  ${diagnostic.message}`,
  ];
  if (index) lines.push(...renderFrame(index, diagnostic.range.start, diagnostic.range.end, paint));
  if (diagnostic.hint) lines.push(`  ${paint("36", "hint:")} ${diagnostic.hint}`);
  for (const related of diagnostic.related ?? []) {
    const relatedIndex = related.file === diagnostic.file ? index : options.lineIndexOf?.(related.file);
    lines.push(`  ${paint("2", "note:")} ${related.message} (${formatLocation(related.file, related.range.start, relatedIndex, showPath)})`);
  }
  return lines.join("\n");
}

function renderFrame(index: LineIndex, startOffset: number, endOffset: number, paint: (code: string, s: string) => string): string[] {
  const start = index.positionAt(startOffset);
  const end = index.positionAt(Math.max(startOffset, endOffset));
  const raw = index.lineText(start.line);
  // Very long lines (minified or junk input) are windowed around the caret.
  let offset = 0;
  if (raw.length > MAX_FRAME_WIDTH) offset = Math.max(0, Math.min(start.column - 1 - 40, raw.length - MAX_FRAME_WIDTH));
  const visible = raw
    .slice(offset, offset + MAX_FRAME_WIDTH)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "\u00b7")
    .replace(/\t/g, " ");
  const gutter = String(start.line);
  const caretStart = start.column - 1 - offset;
  const caretEnd = end.line === start.line ? end.column - 1 - offset : visible.length;
  const width = Math.max(1, Math.min(caretEnd, visible.length) - caretStart);
  return [`  ${gutter} | ${visible}`, `  ${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, caretStart))}${paint("31", "^".repeat(width))}`];
}
