/**
 * specs.md: one row per network of the bundled specs, from the checker itself, so the table is
 * what `vnet summary` would say today. Paths are relative to the repository root and only codes
 * (never messages, which may hold absolute paths) are shown, so the output is the same on every
 * machine.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatShape } from "../src/ops/values.js";
import { checkFiles } from "../src/semantics/check.js";
import { summarize, formatMacs } from "../src/semantics/summary.js";
import { table } from "./reference.js";

/** Folders (relative to the repository root) whose `*.vnet` files are listed; not recursive. */
export const SPEC_FOLDERS = ["specs", "specs/tiny"] as const;

/** 33371472 -> "33,371,472", independent of the machine's locale. */
function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The spec files, repository-relative with forward slashes, in code-point order. */
export function listSpecFiles(root: string): string[] {
  const files: string[] = [];
  for (const folder of SPEC_FOLDERS) {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".vnet")) files.push(`${folder}/${entry.name}`);
    }
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function describeDiagnostics(diagnostics: readonly { code: string; severity: string }[]): string {
  const parts: string[] = [];
  for (const severity of ["error", "warning"] as const) {
    const found = diagnostics.filter((d) => d.severity === severity);
    if (!found.length) continue;
    const codes = [...new Set(found.map((d) => d.code))].sort().join(", ");
    parts.push(`${found.length} ${severity}${found.length === 1 ? "" : "s"} (${codes})`);
  }
  return parts.join("; ") || "ok";
}

/** Checks every spec (each file as its own entry, as `vnet check` does) and tabulates its networks. */
export function specTable(root: string): string {
  const rows: string[][] = [];
  const files = listSpecFiles(root);
  for (const file of files) {
    const absolute = path.join(root, file);
    const result = checkFiles([absolute], { root });
    const status = describeDiagnostics(result.diagnostics);
    const networks = result.networks.filter((n) => path.resolve(n.file) === absolute);
    if (networks.length === 0) {
      rows.push([`\`${file}\``, "—", "—", "—", "—", "—", status === "ok" ? "no network" : status]);
      continue;
    }
    for (const network of networks) {
      const summary = summarize(network);
      const inputs = summary.inputs.filter((i) => i.modelInput).map((i) => `${i.name} ${formatShape(i.shape, i.perBox ? "K" : "N")}`);
      rows.push([
        `\`${file}\``,
        `\`${summary.network}\``,
        inputs.join("; ") || "none",
        summary.classes === undefined ? "—" : String(summary.classes),
        groupDigits(summary.totals.trainable),
        formatMacs(summary.totals.macs),
        status,
      ]);
    }
  }
  return [
    "# Bundled specs",
    "",
    `${files.length} spec files from ${SPEC_FOLDERS.map((f) => `\`${f}/*.vnet\``).join(" and ")}, checked one at a time. Inputs are the model inputs (streams after the data pipeline) with the batch axis as N (a detector's boxes and per-box rows as K); parameters are trainable ones; MACs are per clip. \`vnet summary <spec>\` prints the per-layer table.`,
    "",
    table(["spec", "network", "inputs", "classes", "trainable params", "MACs", "diagnostics"], rows),
    "",
  ].join("\n");
}
