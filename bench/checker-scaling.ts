/**
 * How the checker's time grows on the inputs that once made it super-linear (the robustness
 * tests' BUG-2, -3 and -4, and a chain of constants): each case is timed at size n and 8n, and the
 * ratio of the medians must stay under 16 (linear work gives about 8, quadratic 64). Ratios, not
 * milliseconds, so the verdict holds on a loaded machine; the unit tests check only behaviour.
 *
 *   node dist/bench/checker-scaling.js [--runs 7] [--warmup 2] [--json]
 *
 * Writes bench/results/checker-scaling.json; exit status 1 when a ratio is over its limit.
 */
import * as path from "node:path";
import { checkProgram } from "../src/semantics/check.js";
import { loadProgram } from "../src/semantics/program.js";
import { parseSpec } from "../src/syntax/parse.js";
import { describeMachine, isMain, machine, measure, parseFlags, table, writeResults } from "./lib/harness.js";

const ROOT = path.resolve("/virtual/scaling");
const MAIN = path.join(ROOT, "main.vnet");

function check(text: string): void {
  checkProgram(loadProgram([MAIN], { host: { readFile: (f) => (f === MAIN ? text : undefined) }, root: ROOT }));
}

const network = (body: string, before = "") => `${before}network n {\n  input video = clip(frames = 16, size = 112)\n${body}\n}\n`;

interface ScalingCase {
  readonly name: string;
  /** The base size n; the case also runs at 8n. */
  readonly n: number;
  readonly run: (n: number) => () => void;
}

const CASES: readonly ScalingCase[] = [
  {
    name: "member suffixes `x.a.a...` (parse)",
    n: 2000,
    run: (n) => {
      const text = `k = x${".a".repeat(n)}`;
      return () => parseSpec(text);
    },
  },
  {
    name: "junk statements in a body (parse recovery)",
    n: 500,
    run: (n) => {
      const text = `network n {\n${" 3, a".repeat(n)}\n}\n`;
      return () => check(text);
    },
  },
  {
    name: "chains nested in stage arguments (check)",
    n: 2,
    run: (n) => {
      const d = 3 * n;
      const text = network(`  x = video -> ${"conv3d(video -> ".repeat(d)}relu${")".repeat(d)}\n  output x`);
      return () => check(text);
    },
  },
  {
    name: "chained constants `c1 = c0 + 1` (check)",
    n: 1000,
    run: (n) => {
      const constants = Array.from({ length: n }, (_, i) => `c${i + 1} = ${i === 0 ? "1" : `c${i}`} + 1`).join("\n");
      const text = network(`  output video -> global_avg_pool -> dense(c${n})`, `${constants}\n`);
      return () => check(text);
    },
  },
];

const FACTOR = 8;
const LIMIT = 16;

export function runCheckerScaling(options: { warmup: number; runs: number }) {
  const rows = CASES.map((c) => {
    const small = measure(c.run(c.n), options).median;
    const large = measure(c.run(c.n * FACTOR), options).median;
    const ratio = large / Math.max(small, 1e-3);
    return { name: c.name, n: c.n, smallMs: small, largeMs: large, ratio, status: ratio <= LIMIT ? "PASS" : "FAIL" };
  });
  return { bench: "checker-scaling", date: new Date().toISOString(), machine: machine(), factor: FACTOR, limit: LIMIT, ...options, cases: rows };
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const report = runCheckerScaling({ warmup: Number(flags.get("warmup") ?? 2), runs: Number(flags.get("runs") ?? 7) });
  const file = writeResults("checker-scaling", report);
  if (flags.has("json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`checker scaling: median time at n and ${FACTOR}n (limit: ratio <= ${LIMIT}); machine: ${describeMachine(report.machine)}\n\n`);
    process.stdout.write(
      `${table(
        ["case", "n", `n ms`, `${FACTOR}n ms`, "ratio", ""],
        report.cases.map((c) => [c.name, String(c.n), c.smallMs.toFixed(2), c.largeMs.toFixed(2), c.ratio.toFixed(1), c.status]),
      )}\nresults: ${path.relative(process.cwd(), file)}\n`,
    );
  }
  if (report.cases.some((c) => c.status === "FAIL")) process.exitCode = 1;
}
