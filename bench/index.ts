/**
 * Runs every benchmark: each top-level file of bench/ (compiled to dist/bench/) but this one, in
 * its own node process so one benchmark's JIT state and heap never colour another's figures.
 * A new benchmark (tfjs, ONNX, ...) is just a new file in bench/.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/index.js [--only parse-check,lsp-latency] [args passed to each]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describeMachine, isMain, machine } from "./lib/harness.js";

/** The compiled benchmark scripts next to this file, by name (`parse-check`, `lsp-latency`, ...). */
export function benchmarks(): string[] {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const self = path.basename(fileURLToPath(import.meta.url));
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".js") && e.name !== self)
    .map((e) => e.name.replace(/\.js$/, ""))
    .sort();
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? "").split(",")) : undefined;
  const passThrough = onlyAt >= 0 ? [...argv.slice(0, onlyAt), ...argv.slice(onlyAt + 2)] : argv;
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const failed: string[] = [];
  process.stdout.write(`machine: ${describeMachine(machine())}\n`);
  for (const name of benchmarks().filter((n) => !only || only.has(n))) {
    process.stdout.write(`\n=== ${name} ===\n`);
    const run = spawnSync(process.execPath, [path.join(dir, `${name}.js`), ...passThrough], { stdio: "inherit" });
    if (run.status !== 0) failed.push(`${name} (exit ${run.status ?? run.signal})`);
  }
  if (failed.length > 0) {
    process.stdout.write(`\nfailed: ${failed.join(", ")}\n`);
    process.exitCode = 1;
  }
}
