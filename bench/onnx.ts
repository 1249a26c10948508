/**
 * ONNX Runtime (CPU provider) on exported vnet models, with trained-like weights:
 * 1. latency of r3d_18 on one 8x112x112 clip (batch 1): median of `--runs` runs after warm-up,
 *    with the achieved GFLOP/s (2 x the checker's MACs / median);
 * 2. latency of every tiny spec, batch 1;
 * 3. every spec of specs/ at full size: export time, file size, ONNX Runtime load time and one
 *    run (`--skip-full` leaves this out);
 * 4. tfjs (cpu backend) vs ONNX Runtime max |diff| for every spec at the small inputs the tests
 *    use, the seven whose tfjs pass is too slow for the tests included, and at full size for the
 *    specs named by `--full-parity r3d_18,two_stream` (minutes each in tfjs's JavaScript convs).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/onnx.js [--runs 10] [--skip-full] [--skip-parity] [--full-parity names]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { exportOnnx, programSources } from "../src/backends/onnx/index.js";
import type { IrGraph } from "../src/ir/graph.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { selectBackend } from "../src/runtime/backend.js";
import { loadOnnxModel, runOnnx, type HostTensor, type OnnxModel } from "../src/runtime/onnx.js";
import { verifyOnnxExport } from "../src/runtime/onnx-verify.js";
import { checkFiles } from "../src/semantics/check.js";
import { totals, type CheckedNetwork } from "../src/semantics/network.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, summarize, table, writeResults, type Stats } from "./lib/harness.js";
import { checkResized, SMALL_INPUTS, trainedLikeModel, trainedLikeWeights } from "./lib/onnx-fixtures.js";

interface Spec {
  readonly network: CheckedNetwork;
  readonly graph: IrGraph;
  readonly sources: ReadonlyMap<string, string>;
}

/** A spec at [frames, size] (its own input when undefined). */
function load(name: string, input?: readonly [number, number]): Spec {
  const file = path.join(repoRoot(), "specs", ...(name.startsWith("tiny_") ? ["tiny"] : []), `${name}.vnet`);
  if (input) return checkResized(file, input[0], input[1]);
  const result = checkFiles([file]);
  return { network: result.networks[0]!, graph: lowerNetwork(result.networks[0]!), sources: programSources(result) };
}

function feedsFor(model: OnnxModel): Record<string, HostTensor> {
  return Object.fromEntries(
    model.inputs.map((i) => [i.name, { data: new Float32Array([1, ...i.shape].reduce((a, b) => a * b, 1)).fill(0.5), shape: [1, ...i.shape] }]),
  );
}

async function timeRuns(model: OnnxModel, runs: number, warmup: number): Promise<Stats> {
  const feeds = feedsFor(model);
  for (let i = 0; i < warmup; i++) await runOnnx(model, feeds);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await runOnnx(model, feeds);
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}

interface Latency {
  readonly spec: string;
  readonly input: string;
  readonly gmacs: number;
  readonly stats: Stats;
  readonly gflops: number;
}

async function latency(name: string, input: readonly [number, number] | undefined, runs: number): Promise<Latency> {
  const { network, graph, sources } = load(name, input);
  const exported = exportOnnx(graph, { weights: trainedLikeWeights(1), sources });
  const model = await loadOnnxModel(exported.bytes!, { provider: "cpu" });
  const stats = await timeRuns(model, runs, 2);
  await model.session.release();
  const macs = totals(network).macs;
  const raw = network.inputs.find((i) => i.kind === "input")!.shape;
  return { spec: name, input: raw.join("x"), gmacs: macs / 1e9, stats, gflops: (2 * macs) / 1e9 / (stats.median / 1000) };
}

interface FullSize {
  readonly spec: string;
  readonly input: string;
  readonly mib: number;
  readonly exportMs: number;
  readonly loadMs: number;
  readonly runMs: number;
  readonly gflops: number;
}

async function fullSize(name: string): Promise<FullSize> {
  const { network, graph, sources } = load(name);
  let started = performance.now();
  const exported = exportOnnx(graph, { weights: trainedLikeWeights(1), sources });
  const exportMs = performance.now() - started;
  started = performance.now();
  const model = await loadOnnxModel(exported.bytes!, { provider: "cpu" });
  const loadMs = performance.now() - started;
  const stats = await timeRuns(model, 1, 1);
  await model.session.release();
  const raw = network.inputs.find((i) => i.kind === "input")!.shape;
  return {
    spec: name,
    input: raw.join("x"),
    mib: exported.bytes!.length / 2 ** 20,
    exportMs,
    loadMs,
    runMs: stats.median,
    gflops: (2 * totals(network).macs) / 1e9 / (stats.median / 1000),
  };
}

interface Parity {
  readonly spec: string;
  readonly input: string;
  readonly output: string;
  readonly maxAbsDiff: number;
  readonly maxAbs: number;
  readonly seconds: number;
}

async function parity(name: string, input?: readonly [number, number]): Promise<Parity> {
  const started = performance.now();
  const { network, graph, sources } = load(name, input);
  const model = trainedLikeModel(graph, 2);
  const exported = exportOnnx(graph, { weights: trainedLikeWeights(2), sources });
  const report = await verifyOnnxExport(graph, model, exported.bytes!, { seed: 7, batches: [1], sample: false });
  model.dispose();
  const check = report.checks[0]!;
  const raw = network.inputs.find((i) => i.kind === "input")!.shape;
  return {
    spec: name,
    input: raw.join("x"),
    output: check.output,
    maxAbsDiff: check.maxAbsDiff,
    maxAbs: check.maxAbs,
    seconds: (performance.now() - started) / 1000,
  };
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const runs = Number(flags.get("runs") ?? 10);
  const specs = Object.keys(SMALL_INPUTS);
  const tiny = fs
    .readdirSync(path.join(repoRoot(), "specs", "tiny"))
    .filter((f) => f.endsWith(".vnet"))
    .map((f) => f.replace(/\.vnet$/, ""))
    .sort();
  console.log(describeMachine(machine()));
  await selectBackend({ force: "cpu" });

  const r3d = await latency("r3d_18", [8, 112], runs);
  console.log(
    `\nONNX Runtime (cpu provider), r3d_18 on one 8x112x112 clip: median ${r3d.stats.median.toFixed(1)} ms over ${runs} runs (p90 ${r3d.stats.p90.toFixed(1)}), ${r3d.gmacs.toFixed(2)} GMAC -> ${r3d.gflops.toFixed(1)} GFLOP/s`,
  );
  const tinyLatency: Latency[] = [];
  for (const name of tiny) tinyLatency.push(await latency(name, undefined, runs));
  console.log(`\ntiny specs, batch 1, median of ${runs}:`);
  console.log(
    table(
      ["spec", "input", "GMAC", "median ms", "GFLOP/s"],
      tinyLatency.map((l) => [l.spec, l.input, l.gmacs.toFixed(3), l.stats.median.toFixed(2), l.gflops.toFixed(1)]),
    ),
  );

  const full: FullSize[] = [];
  if (!flags.has("skip-full")) {
    for (const name of specs) full.push(await fullSize(name));
    console.log("\nevery spec at full size: export, ONNX Runtime load, one run (batch 1):");
    console.log(
      table(
        ["spec", "input", "MiB", "export ms", "load ms", "run ms", "GFLOP/s"],
        full.map((f) => [f.spec, f.input, f.mib.toFixed(0), f.exportMs.toFixed(0), f.loadMs.toFixed(0), f.runMs.toFixed(0), f.gflops.toFixed(1)]),
      ),
    );
  }

  const parities: Parity[] = [];
  if (!flags.has("skip-parity")) {
    for (const name of specs) parities.push(await parity(name, SMALL_INPUTS[name]));
    for (const name of (flags.get("full-parity") ?? "").split(",").filter(Boolean)) parities.push(await parity(name));
    console.log("\ntfjs (cpu) vs ONNX Runtime, random clip, batch 1, trained-like weights:");
    console.log(
      table(
        ["spec", "input", "output", "max |diff|", "max |value|", "seconds"],
        parities.map((p) => [p.spec, p.input, p.output, p.maxAbsDiff.toExponential(2), p.maxAbs.toFixed(2), p.seconds.toFixed(1)]),
      ),
    );
    const worst = Math.max(...parities.map((p) => p.maxAbsDiff));
    console.log(`worst max |diff| ${worst.toExponential(2)} (${worst <= 1e-4 ? "within" : "ABOVE"} 1e-4)`);
  }
  console.log(`\nwrote ${writeResults("onnx", { machine: machine(), runs, r3d18: r3d, tiny: tinyLatency, fullSize: full, parity: parities })}`);
}
