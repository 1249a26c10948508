/**
 * Diagnostics: the one shape every stage reports problems in. Depends on nothing.
 * Ranges are half-open character offsets into the source text, so a consumer can always
 * underline exactly what was meant without re-tokenising.
 */

export type Severity = "error" | "warning" | "info";

/** Half-open `[start, end)` range of character offsets into one file. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export interface RelatedInformation {
  readonly message: string;
  readonly file: string;
  readonly range: Range;
}

export interface Diagnostic {
  /** Stable code such as `VN020`; see `codes.ts`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly range: Range;
  /** A suggestion shown after the message ("did you mean `conv3d`?"). */
  readonly hint?: string;
  /** Replacement text that fixes the problem at `range`, for quick fixes. */
  readonly fix?: { readonly range: Range; readonly text: string; readonly title: string };
  readonly related?: readonly RelatedInformation[];
}

/** Sorts diagnostics by file, then position, then code, so output is deterministic. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.range.start - b.range.start ||
      a.range.end - b.range.end ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}

/** Removes exact duplicates (same file, range, code and message). */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.file}\0${d.range.start}\0${d.range.end}\0${d.code}\0${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
