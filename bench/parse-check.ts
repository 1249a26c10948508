/**
 * Parse and parse+check time of every spec in specs/ and specs/tiny/, with the targets from the
 * performance issue (SlowFast R50 parse+check under 20 ms). Files are read once and served from
 * memory, so the figures are the compiler's work, not the disk's.
 *
 *   npm run bench        # = tsc -p tsconfig.json && node dist/bench/parse-check.js
 *   node dist/bench/parse-check.js [--runs 30] [--warmup 5] [--json]
 *
 * Prints a table and writes bench/results/parse-check.json. Exit status 1 when a target fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkProgram } from "../src/semantics/check.js";
import { allLayers } from "../src/semantics/network.js";
import { loadProgram, nodeHost, type Host } from "../src/semantics/program.js";
import { parseSpec } from "../src/syntax/parse.js";
import { describeMachine, isMain, machine, measure, parseFlags, repoRoot, table, writeResults, type Machine, type Stats } from "./lib/harness.js";

/** Folders (relative to the repository) whose top-level `.vnet` files are benchmarked. */
const SPEC_FOLDERS = ["specs", "specs/tiny"];

interface Target {
  readonly spec: string;
  readonly measure: "parse" | "parseCheck";
  readonly maxMedianMs: number;
  readonly source: string;
}

const TARGETS: readonly Target[] = [
  { spec: "specs/slowfast_r50.vnet", measure: "parseCheck", maxMedianMs: 20, source: "performance issue: SlowFast parse+check under 20 ms" },
];

export interface SpecResult {
  readonly spec: string;
  readonly lines: number;
  readonly chars: number;
  /** Files the program loads (the spec and everything it imports). */
  readonly files: number;
  readonly layers: number;
  readonly errors: number;
  readonly parse: Stats;
  readonly parseCheck: Stats;
}

export interface TargetResult extends Target {
  readonly status: "PASS" | "FAIL" | "MISSING";
  readonly medianMs?: number;
}

export interface ParseCheckReport {
  readonly bench: "parse-check";
  readonly date: string;
  readonly machine: Machine;
  readonly warmup: number;
  readonly runs: number;
  readonly specs: readonly SpecResult[];
  readonly targets: readonly TargetResult[];
}

/** A host that reads each file from disk once and then serves it from memory. */
function cachingHost(): Host {
  const cache = new Map<string, string | undefined>();
  return {
    readFile(file) {
      if (!cache.has(file)) cache.set(file, nodeHost.readFile(file));
      return cache.get(file);
    },
  };
}

/** The top-level `.vnet` files of each benchmarked folder, as repository-relative paths. */
export function benchSpecs(root = repoRoot()): string[] {
  return SPEC_FOLDERS.flatMap((folder) => {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".vnet"))
      .map((e) => `${folder}/${e.name}`)
      .sort();
  });
}

export function runParseCheckBench(options: { warmup: number; runs: number }): ParseCheckReport {
  const root = repoRoot();
  const host = cachingHost();
  const specs = benchSpecs(root).map((spec): SpecResult => {
    const file = path.join(root, spec);
    const text = host.readFile(file) ?? "";
    const check = () => checkProgram(loadProgram([file], { host, root }));
    const result = check();
    return {
      spec,
      lines: text.split(/\r\n|\r|\n/).length,
      chars: text.length,
      files: result.program.modules.size,
      layers: result.networks.reduce((n, network) => n + [...allLayers(network.layers)].length, 0),
      errors: result.diagnostics.filter((d) => d.severity === "error").length,
      parse: measure(() => parseSpec(text, file), options),
      parseCheck: measure(check, options),
    };
  });
  const targets = TARGETS.map((target): TargetResult => {
    const result = specs.find((s) => s.spec === target.spec);
    if (!result) return { ...target, status: "MISSING" };
    const medianMs = result[target.measure].median;
    return { ...target, status: medianMs < target.maxMedianMs ? "PASS" : "FAIL", medianMs };
  });
  return { bench: "parse-check", date: new Date().toISOString(), machine: machine(), warmup: options.warmup, runs: options.runs, specs, targets };
}

export function formatParseCheckReport(report: ParseCheckReport): string {
  const ms = (n: number) => n.toFixed(2);
  const rows = report.specs.map((s) => [
    s.spec,
    String(s.lines),
    String(s.files),
    String(s.layers),
    String(s.errors),
    ms(s.parse.median),
    ms(s.parse.p90),
    ms(s.parseCheck.median),
    ms(s.parseCheck.p90),
  ]);
  const lines = [
    `vnet parse/check: median and p90 of ${report.runs} runs after ${report.warmup} warm-up, in ms (files served from memory)`,
    `machine: ${describeMachine(report.machine)}`,
    "",
    table(["spec", "lines", "files", "layers", "errors", "parse med", "parse p90", "check med", "check p90"], rows),
    "",
    "(check = load + parse of the spec and its imports + static rules + elaboration)",
    "targets:",
    ...report.targets.map((t) =>
      t.status === "MISSING"
        ? `  MISSING  ${t.spec} (not in specs/ yet): ${t.source}`
        : `  ${t.status.padEnd(7)}  ${t.spec}: ${t.measure === "parseCheck" ? "parse+check" : "parse"} median ${ms(t.medianMs!)} ms (limit ${t.maxMedianMs} ms)`,
    ),
  ];
  return lines.join("\n");
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const report = runParseCheckBench({ warmup: Number(flags.get("warmup") ?? 5), runs: Number(flags.get("runs") ?? 30) });
  const file = writeResults("parse-check", report);
  if (flags.has("json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatParseCheckReport(report)}\nresults: ${path.relative(process.cwd(), file)}\n`);
  if (report.targets.some((t) => t.status === "FAIL")) process.exitCode = 1;
}
