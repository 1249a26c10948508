/**
 * Problems with a user's data (codes VN090-VN099; VN120-VN124 for localization annotations and
 * features): a bad video, folder, list line, label or annotation is a `DataIssue` naming its
 * path (and line), reported and skipped; training goes on and ends with a summary. `DataError`
 * carries an issue through code that throws (a decode failing mid-epoch).
 */
import { CODES } from "../diagnostics/codes.js";
import { VnetError } from "../diagnostics/error.js";

export type DataCode =
  | "VN090"
  | "VN091"
  | "VN092"
  | "VN093"
  | "VN094"
  | "VN095"
  | "VN096"
  | "VN097"
  | "VN098"
  | "VN099"
  | "VN120"
  | "VN121"
  | "VN122"
  | "VN123"
  | "VN124"
  | "VN125";

export interface DataIssue {
  readonly code: DataCode;
  /** The video, folder or list file. */
  readonly path: string;
  /** 1-based line in a list file. */
  readonly line?: number;
  readonly message: string;
}

/**
 * An error that is a data issue (thrown by decoding, probing, dataset loading). Caught where the
 * input can be skipped, its `issue` is reported with the code's severity (`formatIssue`);
 * uncaught, it ends the command (the one video of `predict` or `gradcam` cannot be read), so the
 * CLI prints it as an error, whatever the code's severity when skipped.
 */
export class DataError extends VnetError {
  readonly issue: DataIssue;
  constructor(code: DataCode, file: string, message: string, line?: number) {
    super(code, message, { path: file, ...(line ? { line } : {}) });
    this.issue = { code, path: file, message, ...(line ? { line } : {}) };
  }
}

/** The issue a DataError carries; any other error is a fault, not bad data, and is rethrown. */
export function issueOf(error: unknown): DataIssue {
  if (error instanceof DataError) return error.issue;
  throw error;
}

/** One line, as the checker prints diagnostics: `path[:line:1]  warning VN092  message (skipped)`. */
export function formatIssue(issue: DataIssue): string {
  const info = CODES.get(issue.code)!;
  const where = issue.line ? `${issue.path}:${issue.line}:1` : issue.path;
  return `${where}  ${info.severity} ${issue.code}  ${issue.message}${info.severity === "warning" ? " (skipped)" : ""}`;
}

/** `skipped 3 videos: 2 video-corrupt (VN092), 1 unknown-label (VN095)`, or undefined when none. */
export function skippedSummary(issues: readonly DataIssue[]): string | undefined {
  if (issues.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const issue of issues) counts.set(issue.code, (counts.get(issue.code) ?? 0) + 1);
  const parts = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, n]) => `${n} ${CODES.get(code)!.name} (${code})`);
  return `skipped ${issues.length} input${issues.length === 1 ? "" : "s"}: ${parts.join(", ")}`;
}
