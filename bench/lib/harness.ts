/**
 * Shared pieces of the benchmarks under bench/: timing with warm-up, summary statistics, the
 * machine description every result carries, a plain-text table, and result files under
 * bench/results/. Each benchmark is one file in bench/ that `bench/index.ts` runs in turn.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the nearest folder with package.json above this file or its compiled copy). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no package.json above the bench harness");
    dir = parent;
  }
  return dir;
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && path.resolve(process.argv[1]!) === fileURLToPath(moduleUrl);
}

export interface Stats {
  readonly runs: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile (p in 0..100) of already sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { runs: sorted.length, median: percentile(sorted, 50), p90: percentile(sorted, 90), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

/**
 * Times `fn` in milliseconds: `warmup` untimed calls first (so the JIT has compiled the hot
 * paths and caches are filled), then `runs` timed ones.
 */
export function measure(fn: () => unknown, options: { warmup: number; runs: number }): Stats {
  for (let i = 0; i < options.warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  /** 1-minute load average when the run started: a busy machine explains slow figures. */
  readonly loadAverage: number;
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}, load ${m.loadAverage}`;
}

/** A right-aligned plain-text table (first column left-aligned) with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Writes `bench/results/<name>.json` (pretty-printed) and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = path.join(repoRoot(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Reads `--flag value` pairs and bare `--flag`s; the benchmarks take only a few options. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      flags.set(arg.slice(2), next);
      i++;
    } else flags.set(arg.slice(2), "true");
  }
  return flags;
}
