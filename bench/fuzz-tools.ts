/**
 * The formatter and the language server on mutated specs (scripts/fuzz-tools.ts): per case, hover,
 * completion and definition at random offsets, and format / re-format / re-check (same diagnostics,
 * same parameter and MAC totals). Each case runs in a worker thread with a heap limit and a
 * watchdog, so a case that hangs or runs out of memory is recorded and the run goes on.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/fuzz-tools.js [--cases 2000] [--seed 1] [--max-repeat 300]
 *                             [--budget-ms 3000] [--hang-ms 30000] [--heap-mb 1024] [--json]
 *
 * Writes bench/results/fuzz-tools.json; exit status 1 when any case failed, hung, ran out of
 * memory or took longer than --budget-ms. `test/fuzz-tools.test.ts` runs a few hundred cases in CI.
 */
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { formatFailure, generateCase, loadCorpus, problemSignature } from "../scripts/fuzz-lib.js";
import { runToolsCase } from "../scripts/fuzz-tools.js";
import { describeMachine, isMain, machine, parseFlags, percentile, writeResults } from "./lib/harness.js";

interface Settings {
  readonly seed: number;
  readonly maxRepeat: number;
}

interface Reply {
  readonly index: number;
  readonly ms: number;
  readonly parsed: boolean;
  readonly problems: readonly string[];
  readonly report: string;
}

interface Failure {
  readonly index: number;
  readonly kind: "problem" | "slow" | "hang" | "out-of-memory";
  readonly ms: number;
  readonly report: string;
}

if (!isMainThread && parentPort) {
  const { seed, maxRepeat } = workerData as Settings;
  const corpus = loadCorpus();
  const port = parentPort;
  port.on("message", (index: number) => {
    const fuzzCase = generateCase(corpus, seed, index, { maxRepeat });
    void runToolsCase(fuzzCase, corpus).then((result) => {
      const report = result.problems.length > 0 ? formatFailure(fuzzCase, { ms: result.ms, diagnostics: [], problems: result.problems }) : "";
      port.postMessage({ index, ms: result.ms, parsed: result.parsed, problems: result.problems, report } satisfies Reply);
    });
  });
}

/** Runs cases 0..cases-1 one at a time in a worker, replacing the worker after a hang or an OOM. */
async function runAll(settings: Settings, cases: number, hangMs: number, heapMb: number, budgetMs: number) {
  const times: number[] = [];
  const failures: Failure[] = [];
  let parsed = 0;
  let worker: Worker | undefined;
  const start = () => new Worker(fileURLToPath(import.meta.url), { workerData: settings, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  for (let index = 0; index < cases; index++) {
    worker ??= start();
    const w = worker;
    const started = performance.now();
    const outcome = await new Promise<Reply | Failure>((resolve) => {
      const timer = setTimeout(() => resolve({ index, kind: "hang", ms: hangMs, report: `case ${index}: no answer in ${hangMs} ms` }), hangMs);
      const onMessage = (reply: Reply) => done(reply);
      const onError = (error: Error) =>
        done({
          index,
          kind: /memory/i.test(String(error)) ? "out-of-memory" : "problem",
          ms: performance.now() - started,
          report: `case ${index}: worker died: ${String(error)}`,
        });
      // Only this case's listeners: removeAllListeners would also drop the Worker's own.
      const done = (value: Reply | Failure) => {
        clearTimeout(timer);
        w.off("message", onMessage);
        w.off("error", onError);
        resolve(value);
      };
      w.on("message", onMessage);
      w.on("error", onError);
      w.postMessage(index);
    });
    if ("kind" in outcome) {
      failures.push(outcome);
      await w.terminate();
      worker = undefined;
      continue;
    }
    times.push(outcome.ms);
    if (outcome.parsed) parsed++;
    if (outcome.problems.length > 0) failures.push({ index, kind: "problem", ms: outcome.ms, report: outcome.report });
    else if (outcome.ms > budgetMs)
      failures.push({ index, kind: "slow", ms: outcome.ms, report: `case ${index}: ${outcome.ms.toFixed(0)} ms, over the ${budgetMs} ms budget` });
    if ((index + 1) % 500 === 0) process.stdout.write(`  ${index + 1}/${cases} cases, ${failures.length} failing\n`);
  }
  await worker?.terminate();
  return { times, failures, parsed };
}

if (isMainThread && isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const cases = Number(flags.get("cases") ?? 2000);
  const settings: Settings = { seed: Number(flags.get("seed") ?? 1), maxRepeat: Number(flags.get("max-repeat") ?? 300) };
  const budgetMs = Number(flags.get("budget-ms") ?? 3000);
  const hangMs = Number(flags.get("hang-ms") ?? 30000);
  const heapMb = Number(flags.get("heap-mb") ?? 1024);
  process.stdout.write(`machine: ${describeMachine(machine())}\n`);
  const wall = performance.now();
  const { times, failures, parsed } = await runAll(settings, cases, hangMs, heapMb, budgetMs);
  const sorted = [...times].sort((a, b) => a - b);
  const summary = {
    seed: settings.seed,
    cases,
    maxRepeat: settings.maxRepeat,
    parsed,
    wallSeconds: (performance.now() - wall) / 1000,
    medianMs: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    failures: failures.length,
    signatures: [...new Set(failures.map((f) => `${f.kind}: ${problemSignature(f.report.split("\n").find((l) => l.includes("problem:")) ?? f.report)}`))],
  };
  process.stdout.write(
    `vnet fuzz-tools: seed ${summary.seed}, ${cases} cases (${parsed} parse and were formatted), ${summary.wallSeconds.toFixed(1)} s\n` +
      `  per case: median ${summary.medianMs.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms, max ${summary.maxMs.toFixed(1)} ms\n` +
      `  failing cases: ${failures.length}\n`,
  );
  for (const f of failures.slice(0, 5)) process.stdout.write(`${f.report.slice(0, 2000)}\n`);
  if (flags.has("json")) process.stdout.write(`${JSON.stringify(summary)}\n`);
  writeResults("fuzz-tools", { machine: machine(), ...summary, failures: failures.slice(0, 20) });
  if (failures.length > 0) process.exitCode = 1;
}
