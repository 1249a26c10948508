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

/** Diagnostics reported per file; the rest are counted in one closing note. */
export const MAX_DIAGNOSTICS_PER_FILE = 1000;

/**
 * Keeps the first `max` diagnostics of each file (of a sorted list) and replaces the rest by one
 * VN006 note at the first one left out, counting them: an error when any of them is, so the
 * outcome of a check never depends on what fits in the report.
 */
export function capDiagnostics(sorted: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  const out: Diagnostic[] = [];
  let i = 0;
  while (i < sorted.length) {
    const file = sorted[i]!.file;
    let end = i;
    while (end < sorted.length && sorted[end]!.file === file) end++;
    for (let j = i; j < Math.min(end, i + max); j++) out.push(sorted[j]!);
    if (end - i > max) {
      const rest = sorted.slice(i + max, end);
      const errors = rest.filter((d) => d.severity === "error").length;
      const warnings = rest.filter((d) => d.severity === "warning").length;
      const counts = [
        errors ? `${errors} error(s)` : "",
        warnings ? `${warnings} warning(s)` : "",
        rest.length - errors - warnings ? `${rest.length - errors - warnings} note(s)` : "",
      ]
        .filter(Boolean)
        .join(", ");
      out.push({
        code: "VN006",
        severity: errors ? "error" : "warning",
        message: `${rest.length} more problem(s) in this file are not shown: ${counts}`,
        file,
        range: rest[0]!.range,
        hint: "fix the ones above and check again",
      });
    }
    i = end;
  }
  return out;
}

/** A diagnostic at a place in a source file (a layer's or a network's origin: its file and range), with a hint when there is one. */
export function diagnosticAt(
  at: { readonly file: string; readonly range: Range },
  code: string,
  severity: Severity,
  message: string,
  hint?: string,
): Diagnostic {
  return { code, severity, message, file: at.file, range: at.range, ...(hint ? { hint } : {}) };
}
