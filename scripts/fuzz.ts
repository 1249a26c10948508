/**
 * Long-running mutation fuzzer for the parser and checker (the cases of `test/fuzz.test.ts`, many more).
 *
 *   node dist/scripts/fuzz.js --cases 20000 --seed 1 [--jobs 2] [--budget-ms 2000] [--hang-ms 60000]
 *                            [--max-repeat 300] [--show 5] [--out fuzz-failures] [--json]
 *   node dist/scripts/fuzz.js --seed 1 --only 1234        # print and re-run one case
 *
 * Cases run in worker threads so a case that hangs is caught: a watchdog terminates a worker whose
 * current case has not finished within --hang-ms, records that case, and starts a fresh worker on
 * the next one. Exit status 1 when any case failed (exception, bad diagnostic, over the time budget).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { LineIndex } from "../src/diagnostics/location.js";
import { DEFAULT_MAX_REPEAT, formatFailure, generateCase, loadCorpus, problemSignature, runCase, type CorpusFile } from "./fuzz-lib.js";

interface Options {
  cases: number;
  seed: number;
  jobs: number;
  budgetMs: number;
  hangMs: number;
  show: number;
  out?: string;
  json: boolean;
  only?: number;
  specs: string;
  maxRepeat: number;
}

interface WorkerInput {
  readonly seed: number;
  readonly cases: number;
  readonly jobs: number;
  readonly lane: number;
  readonly firstIndex: number;
  readonly budgetMs: number;
  readonly specs: string;
  readonly maxRepeat: number;
  /** One slot per lane: the index of the case the lane is running, plus one (0 = idle). */
  readonly progress: SharedArrayBuffer;
}

/** A failing or slow case, as a worker reports it. */
interface FailureMessage {
  readonly type: "failure";
  readonly index: number;
  readonly ms: number;
  readonly problems: readonly string[];
  readonly report: string;
}

/** Times of the cases finished since the last batch; sent often so a terminated worker loses little. */
interface BatchMessage {
  readonly type: "batch";
  readonly times: readonly number[];
  readonly slowest: Slowest | undefined;
}

interface Slowest {
  readonly index: number;
  readonly ms: number;
  readonly file: string;
}

type Message = FailureMessage | BatchMessage;

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { cases: 1000, seed: 1, jobs: 1, budgetMs: 2000, hangMs: 60_000, show: 5, json: false, specs: "", maxRepeat: DEFAULT_MAX_REPEAT };
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n)) throw new Error(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--cases") options.cases = number(flag, argv[++i]);
    else if (flag === "--seed") options.seed = number(flag, argv[++i]);
    else if (flag === "--jobs") options.jobs = Math.max(1, number(flag, argv[++i]));
    else if (flag === "--budget-ms") options.budgetMs = number(flag, argv[++i]);
    else if (flag === "--hang-ms") options.hangMs = number(flag, argv[++i]);
    else if (flag === "--show") options.show = number(flag, argv[++i]);
    else if (flag === "--max-repeat") options.maxRepeat = number(flag, argv[++i]);
    else if (flag === "--only") options.only = number(flag, argv[++i]);
    else if (flag === "--out") options.out = argv[++i];
    else if (flag === "--specs") options.specs = path.resolve(argv[++i] ?? "");
    else if (flag === "--json") options.json = true;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

function corpusFor(specs: string): CorpusFile[] {
  return specs ? loadCorpus(specs) : loadCorpus();
}

/** Worker side: runs every `jobs`-th case from `firstIndex`, reporting failures as they happen. */
function runLane(input: WorkerInput): void {
  const corpus = corpusFor(input.specs);
  const progress = new Int32Array(input.progress);
  let times: number[] = [];
  let slowest: Slowest | undefined;
  const flush = () => {
    parentPort!.postMessage({ type: "batch", times, slowest } satisfies BatchMessage);
    times = [];
    slowest = undefined;
  };
  for (let index = input.firstIndex; index < input.cases; index += input.jobs) {
    Atomics.store(progress, input.lane, index + 1);
    const fuzzCase = generateCase(corpus, input.seed, index, { maxRepeat: input.maxRepeat });
    const result = runCase(fuzzCase, corpus);
    times.push(result.ms);
    if (!slowest || result.ms > slowest.ms) slowest = { index, ms: result.ms, file: fuzzCase.base.name };
    const problems = [...result.problems, ...(result.ms > input.budgetMs ? [`slow: ${result.ms.toFixed(0)} ms, over the ${input.budgetMs} ms budget`] : [])];
    if (problems.length > 0) {
      const message: FailureMessage = {
        type: "failure",
        index,
        ms: result.ms,
        problems,
        report: formatFailure(fuzzCase, { ...result, problems }, input.budgetMs),
      };
      parentPort!.postMessage(message);
    }
    flush();
  }
  Atomics.store(progress, input.lane, 0);
  flush();
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** `--only`: regenerate one case, print it with its diagnostics, and say whether it passes. */
function runOne(options: Options): number {
  const corpus = corpusFor(options.specs);
  const fuzzCase = generateCase(corpus, options.seed, options.only!, { maxRepeat: options.maxRepeat });
  const result = runCase(fuzzCase, corpus);
  console.log(`case ${fuzzCase.index} of seed ${fuzzCase.runSeed}: ${fuzzCase.base.name}; ${fuzzCase.steps.join("; ")}`);
  console.log("----- text -----");
  console.log(fuzzCase.text);
  console.log("----- diagnostics -----");
  const lines = new LineIndex(fuzzCase.text);
  for (const d of result.diagnostics) {
    const where = d.file === fuzzCase.base.file ? lines.positionAt(d.range.start) : undefined;
    console.log(
      `${path.relative(fuzzCase.base.root, d.file)}:${where ? `${where.line}:${where.column}` : `@${d.range.start}`} ${d.severity} ${d.code} ${d.message}`,
    );
  }
  console.log(`----- ${result.ms.toFixed(1)} ms, ${result.problems.length === 0 ? "passes" : "FAILS"} -----`);
  for (const problem of result.problems) console.log(`problem: ${problem}`);
  if (options.out) writeCase(options.out, fuzzCase.runSeed, fuzzCase.index, fuzzCase.text);
  return result.problems.length === 0 ? 0 : 1;
}

function writeCase(dir: string, seed: number, index: number, text: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `seed${seed}-case${index}.vnet`), text);
}

/** Main side: start the lanes, watch for hangs, gather results, print the summary. */
async function runMany(options: Options): Promise<number> {
  const corpus = corpusFor(options.specs);
  const progress = new SharedArrayBuffer(4 * options.jobs);
  const current = new Int32Array(progress);
  const failures: FailureMessage[] = [];
  const times: number[] = [];
  let slowest: Slowest | undefined;
  const started = performance.now();

  const runLaneFrom = (lane: number, firstIndex: number): Promise<void> =>
    new Promise((resolve) => {
      const input: WorkerInput = {
        seed: options.seed,
        cases: options.cases,
        jobs: options.jobs,
        lane,
        firstIndex,
        budgetMs: options.budgetMs,
        specs: options.specs,
        maxRepeat: options.maxRepeat,
        progress,
      };
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: input });
      let lastIndex = -1;
      let lastChange = performance.now();
      let finished = false;
      const watchdog = setInterval(() => {
        const running = Atomics.load(current, lane) - 1;
        if (running !== lastIndex) {
          lastIndex = running;
          lastChange = performance.now();
          return;
        }
        if (running >= 0 && performance.now() - lastChange > options.hangMs) {
          // The case is stuck in synchronous code: only terminating the thread stops it.
          finished = true;
          clearInterval(watchdog);
          void worker.terminate();
          const fuzzCase = generateCase(corpus, options.seed, running, { maxRepeat: options.maxRepeat });
          const ms = performance.now() - lastChange;
          const problems = [`hang: still running after ${options.hangMs} ms`];
          failures.push({
            type: "failure",
            index: running,
            ms,
            problems,
            report: formatFailure(fuzzCase, { ms, diagnostics: [], problems }, options.budgetMs),
          });
          times.push(ms);
          Atomics.store(current, lane, 0);
          void runLaneFrom(lane, running + options.jobs).then(resolve);
        }
      }, 250);
      worker.on("message", (message: Message) => {
        if (message.type === "failure") failures.push(message);
        else {
          times.push(...message.times);
          if (message.slowest && (!slowest || message.slowest.ms > slowest.ms)) slowest = message.slowest;
        }
      });
      worker.on("error", (error) => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        // A worker that dies (out of memory, say) loses its lane's case: record it and go on.
        const running = Atomics.load(current, lane) - 1;
        const fuzzCase = generateCase(corpus, options.seed, Math.max(0, running), { maxRepeat: options.maxRepeat });
        const problems = [`worker died: ${error.message}`];
        failures.push({
          type: "failure",
          index: running,
          ms: 0,
          problems,
          report: formatFailure(fuzzCase, { ms: 0, diagnostics: [], problems }, options.budgetMs),
        });
        void runLaneFrom(lane, running + options.jobs).then(resolve);
      });
      worker.on("exit", () => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        resolve();
      });
    });

  const reporter = setInterval(() => {
    const done = times.length;
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`  ${done}/${options.cases} cases, ${(done / seconds).toFixed(0)}/s, ${failures.length} failing\n`);
  }, 10_000);
  await Promise.all(Array.from({ length: options.jobs }, (_, lane) => runLaneFrom(lane, lane)));
  clearInterval(reporter);

  const wallS = (performance.now() - started) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  const bySignature = new Map<string, FailureMessage[]>();
  for (const failure of failures.sort((a, b) => a.index - b.index)) {
    for (const signature of new Set(failure.problems.map(problemSignature))) {
      const list = bySignature.get(signature) ?? [];
      list.push(failure);
      bySignature.set(signature, list);
    }
  }
  const summary = {
    seed: options.seed,
    cases: times.length,
    jobs: options.jobs,
    maxRepeat: options.maxRepeat,
    corpusFiles: corpus.length,
    wallSeconds: Number(wallS.toFixed(2)),
    casesPerSecond: Number((times.length / wallS).toFixed(1)),
    msPerCase: {
      median: Number(percentile(sorted, 0.5).toFixed(2)),
      p99: Number(percentile(sorted, 0.99).toFixed(2)),
      max: Number((sorted.at(-1) ?? NaN).toFixed(2)),
    },
    slowest,
    failingCases: failures.length,
    signatures: [...bySignature].map(([signature, list]) => ({ signature, cases: list.length, first: list[0]!.index })),
  };

  if (options.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log(
      `vnet fuzz: seed ${summary.seed}, ${summary.cases} cases, ${summary.jobs} job(s), corpus ${summary.corpusFiles} files, max repeat ${summary.maxRepeat}`,
    );
    console.log(`  ${summary.wallSeconds} s wall, ${summary.casesPerSecond} cases/s`);
    console.log(`  per case: median ${summary.msPerCase.median} ms, p99 ${summary.msPerCase.p99} ms, max ${summary.msPerCase.max} ms`);
    if (slowest) console.log(`  slowest: case ${slowest.index} (${slowest.file}), ${slowest.ms.toFixed(1)} ms; --only ${slowest.index} shows it`);
    console.log(`  failing cases: ${summary.failingCases}${summary.signatures.length ? `, ${summary.signatures.length} distinct problem(s):` : ""}`);
    for (const s of summary.signatures) console.log(`    ${String(s.cases).padStart(5)} x ${s.signature}  (first: case ${s.first})`);
    for (const failure of failures.slice(0, options.show)) console.log(`\n${failure.report}`);
  }
  if (options.out) {
    for (const failure of failures)
      writeCase(options.out, options.seed, failure.index, generateCase(corpus, options.seed, failure.index, { maxRepeat: options.maxRepeat }).text);
  }
  return failures.length === 0 ? 0 : 1;
}

if (!isMainThread) {
  runLane(workerData as WorkerInput);
} else if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseOptions(process.argv.slice(2));
    process.exitCode = options.only !== undefined ? runOne(options) : await runMany(options);
  } catch (error) {
    console.error(`fuzz: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  }
}
