/**
 * An error the user can fix that has no place in a source file: an output that would overwrite an
 * input, a missing or damaged checkpoint, a locked run, a full disk, a bad video. Any stage throws
 * it; the CLI prints it as one line in the checker's format, `PATH  error VN114  message` (or
 * `vnet: error VN114  message` without a path), a hint, and exits 1 (or 2 for a refusal before
 * any work). Depends on nothing, like the rest of src/diagnostics.
 */

export interface VnetErrorOptions {
  /** The file or directory the error is about. */
  readonly path?: string;
  /** 1-based line in that file. */
  readonly line?: number;
  readonly hint?: string;
  /** 2: refused before any work started, like a usage error; 1 (the default): it failed. */
  readonly exitCode?: 1 | 2;
  readonly severity?: "error" | "warning";
  readonly cause?: unknown;
}

export class VnetError extends Error {
  /** A stable code of codes.ts. */
  readonly code: string;
  readonly path: string | undefined;
  readonly line: number | undefined;
  readonly hint: string | undefined;
  readonly exitCode: 1 | 2;
  readonly severity: "error" | "warning";
  constructor(code: string, message: string, options: VnetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.line = options.line;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
    this.severity = options.severity ?? "error";
  }
}

/** `path[:line:1]  error VN114  message` and, when there is one, `  hint: ...` on the next line. */
export function formatVnetError(error: VnetError): string {
  const where = error.path === undefined ? "vnet:" : error.line ? `${error.path}:${error.line}:1` : error.path;
  const head = `${where}  ${error.severity} ${error.code}  ${error.message}`;
  return error.hint ? `${head}\n  hint: ${error.hint}` : head;
}
