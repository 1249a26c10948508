/** Test helpers: check in-memory specs through the real loader with an in-memory host; compile checked networks; compare trained weights. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type * as tf from "@tensorflow/tfjs";
import { emitTfjs, type TfjsEmitOptions, type TfjsEmitResult } from "../src/backends/tfjs/index.js";
import type { IrGraph } from "../src/ir/graph.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { checkProgram, type CheckResult } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { loadProgram } from "../src/semantics/program.js";

export const ROOT = path.resolve("/virtual/project");

/** Checks `main.vnet` (and any other given files) held in memory under a virtual project root. */
export function checkText(main: string, others: Record<string, string> = {}): CheckResult {
  const files = new Map<string, string>([[path.join(ROOT, "main.vnet"), main]]);
  for (const [name, text] of Object.entries(others)) files.set(path.join(ROOT, name), text);
  const host = { readFile: (f: string) => files.get(path.resolve(f)) };
  return checkProgram(loadProgram([path.join(ROOT, "main.vnet")], { root: ROOT, host }));
}

export function codes(result: CheckResult): string[] {
  return result.diagnostics.map((d) => d.code);
}

/** The text a diagnostic's range covers in main.vnet. */
export function covered(result: CheckResult, index = 0): string {
  const d = result.diagnostics[index]!;
  return result.program.modules.get(d.file)!.text.slice(d.range.start, d.range.end);
}

/** A checked network lowered and built as a tfjs model (the graph, and the model or the diagnostics). */
export function compileNetwork(network: CheckedNetwork, options: TfjsEmitOptions = {}): TfjsEmitResult & { graph: IrGraph } {
  const graph = lowerNetwork(network);
  return { graph, ...emitTfjs(graph, options) };
}

/** A model's weights by tfjs name (the model is disposed). */
export async function weightValues(model: tf.LayersModel): Promise<Map<string, Float32Array>> {
  const values = new Map(await Promise.all(model.weights.map(async (w) => [w.originalName, (await w.read().data()) as Float32Array] as const)));
  model.dispose();
  return values;
}

/** ||a - b|| / ||b|| over every tensor together. */
export function globalRelative(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): number {
  let error = 0;
  let norm = 0;
  for (const [name, values] of b) {
    const other = a.get(name)!;
    values.forEach((v, i) => {
      error += (other[i]! - v) ** 2;
      norm += v ** 2;
    });
  }
  return Math.sqrt(error / norm);
}

const REPO = path.resolve(__dirname, "..");

/**
 * Compiles the TypeScript into dist/ when a source under src/ or grammar/ is newer than the built
 * CLI, for tests that run `bin/vnet.js` as a separate process (as an editor or a shell does).
 */
export function ensureBuilt(): void {
  const built = path.join(REPO, "dist/src/cli/main.js");
  const newest = (dir: string): number =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .reduce(
        (m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : e.name.endsWith(".ts") ? fs.statSync(path.join(dir, e.name)).mtimeMs : 0),
        0,
      );
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= Math.max(newest(path.join(REPO, "src")), newest(path.join(REPO, "grammar")))) return;
  execFileSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", path.join(REPO, "tsconfig.json")], { stdio: "inherit" });
}

/** What one `vnet` command line printed: its stdout lines, its stderr lines, and both in the order they came (`text`). */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly text: string;
}

/** Runs `vnet ARGS` through the real CLI entry point in this process, progress silenced; returns the exit code and what it printed. */
export async function vnet(args: readonly string[], options: { readonly cwd?: string } = {}): Promise<CliRun> {
  // Loaded on first use, so that the checker tests sharing this file do not load the whole CLI (tfjs, ONNX Runtime).
  const { main } = await import("../src/cli/main.js");
  const out: string[] = [];
  const err: string[] = [];
  const text: string[] = [];
  // `cwd`: run as from that folder (paths are shown relative to it); the test's own folder is restored after.
  const before = process.cwd();
  if (options.cwd) process.chdir(options.cwd);
  try {
    const code = await main(args, {
      out: (s) => void (out.push(s), text.push(s)),
      err: (s) => void (err.push(s), text.push(s)),
      progress: () => {},
    });
    return { code, out: out.join("\n"), err: err.join("\n"), text: text.join("\n") };
  } finally {
    process.chdir(before);
  }
}

/** The largest |a[i] - b[i]| of two arrays, which must have one length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** max |a - b| relative to the largest |b|, taken as at least `floor` so that an all-but-zero reference does not divide by ~0. */
export function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  let scale = floor;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxDiff(a, b) / scale;
}

/**
 * A scratch folder for one test file, whose tests run on tfjs's CPU backend in production mode (no
 * debug checks): made before the file's tests, removed after them. Call it at the file's top level;
 * the returned function gives the folder inside hooks and tests.
 */
export function cpuScratch(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    const tf = await import("@tensorflow/tfjs");
    await tf.setBackend("cpu");
    tf.env().set("PROD", true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error("internal: the scratch folder is made before the tests run; read it inside a hook or a test");
    return dir;
  };
}
