/**
 * The one converter between character offsets and line/column positions.
 * Lines and columns are 1-based for people (CLI) and 0-based for LSP; both come from here.
 */

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units like every JavaScript string. */
  readonly column: number;
}

/** Precomputed line starts for one text, so lookups are O(log lines). */
export class LineIndex {
  private readonly lineStarts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10) starts.push(i + 1);
      else if (ch === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Converts an offset (clamped into the text) to a 1-based line and column. */
  positionAt(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - this.lineStarts[lo]! + 1 };
  }

  /** Converts a 1-based line and column back to an offset (clamped into the text). */
  offsetAt(position: Position): number {
    const lineIndex = Math.max(0, Math.min(position.line - 1, this.lineStarts.length - 1));
    const start = this.lineStarts[lineIndex]!;
    const end = this.lineEnd(lineIndex);
    return Math.max(start, Math.min(start + position.column - 1, end));
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const index = line - 1;
    if (index < 0 || index >= this.lineStarts.length) return "";
    return this.text.slice(this.lineStarts[index], this.lineEnd(index));
  }

  private lineEnd(index: number): number {
    if (index + 1 >= this.lineStarts.length) return this.text.length;
    let end = this.lineStarts[index + 1]! - 1;
    if (end > 0 && this.text.charCodeAt(end) === 10 && this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }
}
