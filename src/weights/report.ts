/**
 * The weight report every weight tool prints (`vnet inflate --dry-run`, `vnet weights import`,
 * `vnet train --init`): each weight of the target model with what happened to it (mapped as is,
 * reshaped from a source tensor, or left at its initialiser) and why, the source tensors nothing
 * used, and located diagnostics for what does not fit.
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { formatShape, sameShape } from "./tensors.js";

export type WeightStatus = "mapped" | "reshaped" | "initialised";

export interface WeightEntry {
  /** tfjs weight name in the target model. */
  readonly target: string;
  readonly shape: readonly number[];
  readonly status: WeightStatus;
  /** The source tensor it came from (absent when initialised). */
  readonly source?: string;
  readonly sourceShape?: readonly number[];
  readonly reason: string;
}

export interface UnusedSource {
  readonly source: string;
  readonly shape: readonly number[];
  readonly reason: string;
}

export interface WeightReport {
  readonly entries: readonly WeightEntry[];
  readonly unused: readonly UnusedSource[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Counts per status: `12 mapped, 4 reshaped, 0 initialised`. */
export function reportCounts(report: WeightReport): string {
  const count = (status: WeightStatus) => report.entries.filter((e) => e.status === status).length;
  return `${count("mapped")} mapped, ${count("reshaped")} reshaped, ${count("initialised")} initialised; ${report.unused.length} source tensor${report.unused.length === 1 ? "" : "s"} unused`;
}

/** Every entry as an aligned table, then the unused source tensors. */
export function formatWeightReport(report: WeightReport): string {
  const origin = (e: WeightEntry) => {
    const name = e.source !== undefined && e.source !== e.target ? e.source : "";
    const shape = e.sourceShape && !sameShape(e.sourceShape, e.shape) ? formatShape(e.sourceShape) : "";
    return name || shape ? `from ${[name, shape].filter(Boolean).join(" ")}: ` : "";
  };
  const rows = report.entries.map((e) => [e.target, formatShape(e.shape), e.status, `${origin(e)}${e.reason}`]);
  const widths = [0, 1, 2].map((k) => Math.max(...rows.map((r) => r[k]!.length), 0));
  const lines = rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`);
  if (report.unused.length) {
    lines.push("unused source tensors:");
    for (const u of report.unused) lines.push(`  ${u.source} ${formatShape(u.shape)}: ${u.reason}`);
  }
  return lines.join("\n");
}
