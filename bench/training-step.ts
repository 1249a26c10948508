/**
 * The training step on ONNX Runtime beside PyTorch, for the networks issue 12 measures: r3d_18
 * 8x112x112 batch 2, c3d 16x112x112 batch 2, i3d_r50 8x224x224 batch 1 and slowfast_r50 (its own
 * 32x224x224 clip) batch 1. One SGD step (training-mode forward, cross-entropy, backward, SGD
 * with momentum 0.9) of the ORT engine's compiled step graph (bench/lib/train-step.ts), and of the
 * same network in PyTorch (Debian's /usr/bin/python3 torch, the same number of threads): vnet's
 * ONNX export rebuilt layer by layer as PyTorch modules (bench/lib/torch_onnx_module.py), so both
 * sides run the same layers at the same shapes; for r3d_18 also torchvision's own r3d_18 as a check
 * that the rebuilt network is as fast as PyTorch's native one. The two sides' steps alternate round
 * by round, so their ratio stays meaningful on a busy machine (the load is printed).
 *
 * Each network runs in its own node process beside its own PyTorch processes, so each peak
 * resident memory (RSS) is that network's step alone (the ONNX side's includes node and the
 * weights and momentum it holds in JavaScript; the export is made beforehand by the parent).
 * For the networks named by --profile (r3d_18 by default), ORT's profiler gives the step's kernel
 * time per ONNX operator and phase (forward, backward, optimizer), from a separate profiled session.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/training-step.js [--specs r3d_18,c3d,i3d_r50,slowfast_r50]
 *     [--threads 2] [--rounds 5] [--profile r3d_18] [--python /usr/bin/python3]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { fileURLToPath } from "node:url";
import { exportOnnx, programSources } from "../src/backends/onnx/index.js";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, summarize, table, writeResults, type Stats } from "./lib/harness.js";
import { checkResized, trainedLikeWeights } from "./lib/onnx-fixtures.js";
import { DEFAULT_PYTHON } from "./lib/torch.js";
import { NETWORKS, onnxTrainingStep, profileByOp, torchOnnxTrainingStep, torchTrainingStep, type ProfileBreakdown } from "./lib/train-step.js";

interface NetworkResult {
  readonly network: string;
  readonly clip: readonly number[];
  readonly batch: number;
  readonly nodes: number;
  readonly onnx: Stats;
  readonly onnxPeakRssMiB: number;
  /** PyTorch on the same layers (absent, with `torchMissing`, when there is no torch). */
  readonly torch?: Stats;
  readonly torchPeakRssMiB?: number;
  readonly torchMissing?: string;
  /** torchvision's own network, where it has one. */
  readonly torchvision?: { readonly model: string; readonly stats: Stats; readonly peakRssMiB: number };
  readonly profile?: ProfileBreakdown;
  readonly samples: { readonly onnx: number[]; readonly torch: number[]; readonly torchvision: number[] };
}

function load(name: string): { network: CheckedNetwork; sources: ReadonlyMap<string, string> } {
  const { input } = NETWORKS[name] ?? {};
  const file = path.join(repoRoot(), "specs", `${name}.vnet`);
  if (input) return checkResized(file, input[0], input[1]);
  const result = checkFiles([file]);
  return { network: result.networks[0]!, sources: programSources(result) };
}

/** One network's measurement (the child process): prints its result as the last line of stdout. */
async function measureNetwork(
  name: string,
  onnxFile: string,
  options: { threads: number; rounds: number; profile: boolean; python: string },
): Promise<NetworkResult> {
  const { network } = load(name);
  const { batch } = NETWORKS[name]!;
  const clip = JSON.parse(fs.readFileSync(`${onnxFile}.json`, "utf8")) as { shape: number[]; classes: number };
  const onnx = await onnxTrainingStep(network, batch, options.threads);
  const torch = await torchOnnxTrainingStep(onnxFile, clip.shape, clip.classes, batch, options.threads, options.python);
  const torchvision =
    name === "r3d_18" ? await torchTrainingStep("r3d_18", { frames: clip.shape[0]!, size: clip.shape[1]!, batch }, options.threads, options.python) : undefined;
  const samples = { onnx: [] as number[], torch: [] as number[], torchvision: [] as number[] };
  // The ONNX step ran once when its session was made; PyTorch's first request warms up once.
  for (let round = 0; round < options.rounds; round++) {
    samples.onnx.push(...(await onnx.run(1)));
    if (!("missing" in torch)) samples.torch.push(...(await torch.run(1)));
    if (torchvision && !("missing" in torchvision)) samples.torchvision.push(...(await torchvision.run(1)));
    process.stderr.write(".");
  }
  await onnx.release();
  const onnxPeakRssMiB = process.resourceUsage().maxRSS / 1024;
  let profile: ProfileBreakdown | undefined;
  if (options.profile) {
    const prefix = path.join(os.tmpdir(), `vnet-step-profile-${name}-${process.pid}`);
    const profiled = await onnxTrainingStep(network, batch, options.threads, prefix);
    await profiled.run(2);
    const file = profiled.endProfiling();
    await profiled.release();
    if (file) {
      profile = profileByOp(file, 3);
      fs.rmSync(file, { force: true });
    }
  }
  process.stderr.write("\n");
  const result: NetworkResult = {
    network: name,
    clip: clip.shape,
    batch,
    nodes: onnx.nodes,
    onnx: summarize(samples.onnx),
    onnxPeakRssMiB,
    ...("missing" in torch ? { torchMissing: torch.missing } : { torch: summarize(samples.torch), torchPeakRssMiB: torch.peakRssMiB }),
    ...(torchvision && !("missing" in torchvision)
      ? { torchvision: { model: "r3d_18", stats: summarize(samples.torchvision), peakRssMiB: torchvision.peakRssMiB } }
      : {}),
    ...(profile ? { profile } : {}),
    samples,
  };
  if (!("missing" in torch)) await torch.release();
  if (torchvision && !("missing" in torchvision)) await torchvision.release();
  return result;
}

/** Writes the network's inference ONNX (trained-like weights) and its clip to `file` and `file`.json, for the child and PyTorch. */
function exportFor(name: string, file: string): void {
  const { network, sources } = load(name);
  const exported = exportOnnx(lowerNetwork(network), { weights: trainedLikeWeights(1), sources });
  if (!exported.bytes) throw new Error(`${name} does not export: ${exported.diagnostics.map((d) => d.message).join("; ")}`);
  fs.writeFileSync(file, exported.bytes);
  fs.writeFileSync(`${file}.json`, JSON.stringify({ shape: exported.inputs[0]!.shape, classes: network.classes }));
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : "-");

function report(results: readonly NetworkResult[]): string {
  const rows = results.map((r) => [
    r.network,
    `${r.clip.slice(0, 3).join("x")} b${r.batch}`,
    r.onnx.median.toFixed(0),
    r.torch?.median.toFixed(0) ?? "-",
    ratio(r.onnx.median, r.torch?.median),
    r.onnxPeakRssMiB.toFixed(0),
    r.torchPeakRssMiB?.toFixed(0) ?? "-",
    ratio(r.onnxPeakRssMiB, r.torchPeakRssMiB),
    r.torchvision ? `${r.torchvision.stats.median.toFixed(0)} ms, ${r.torchvision.peakRssMiB.toFixed(0)} MiB` : "",
  ]);
  const lines = [
    table(["network", "clip", "ORT ms", "PyTorch ms", "time ratio", "ORT peak MiB", "PyTorch peak MiB", "memory ratio", "torchvision's own"], rows),
    "(medians of the rounds; ratio = ONNX Runtime / PyTorch, the same layers, SGD with momentum, the same threads)",
  ];
  for (const r of results.filter((x) => x.torchMissing)) lines.push(`${r.network}: PyTorch is not available (${r.torchMissing}), so no ratio`);
  for (const r of results.filter((x) => x.profile)) {
    const p = r.profile!;
    const phases = ["forward", "backward", "optimizer"].map(
      (phase) =>
        `${phase} ${p.byOp
          .filter((e) => e.phase === phase)
          .reduce((a, e) => a + e.ms, 0)
          .toFixed(0)} ms`,
    );
    lines.push(
      "",
      `${r.network}: ORT kernel time per step by operator (profiled session; ${p.totalMs.toFixed(0)} ms of kernels: ${phases.join(", ")})`,
      table(
        ["operator", "phase", "ms/step", "share", "nodes"],
        p.byOp.slice(0, 14).map((e) => [e.op, e.phase, e.ms.toFixed(1), `${((100 * e.ms) / p.totalMs).toFixed(1)}%`, String(e.nodes)]),
      ),
    );
  }
  return lines.join("\n");
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const threads = Number(flags.get("threads") ?? os.cpus().length);
  const rounds = Number(flags.get("rounds") ?? 5);
  const python = flags.get("python") ?? DEFAULT_PYTHON;
  const profiled = new Set((flags.get("profile") ?? "r3d_18").split(","));
  const child = flags.get("network");
  if (child) {
    const result = await measureNetwork(child, flags.get("onnx")!, { threads, rounds, profile: profiled.has(child), python });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const specs = (flags.get("specs") ?? Object.keys(NETWORKS).join(",")).split(",");
    const started = machine();
    console.log(describeMachine(started));
    console.log(`${threads} threads on both sides, ${rounds} rounds`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-training-step-"));
    const results: NetworkResult[] = [];
    try {
      for (const name of specs) {
        if (!NETWORKS[name]) throw new Error(`--specs ${name}: expected some of ${Object.keys(NETWORKS).join(", ")}`);
        const file = path.join(dir, `${name}.onnx`);
        exportFor(name, file);
        process.stderr.write(`${name} `);
        const args = [
          fileURLToPath(import.meta.url),
          "--network",
          name,
          "--onnx",
          file,
          "--threads",
          String(threads),
          "--rounds",
          String(rounds),
          "--python",
          python,
          "--profile",
          [...profiled].join(","),
        ];
        const run = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
        const last = run.stdout.toString().trim().split("\n").at(-1);
        if (run.status !== 0 || !last) throw new Error(`${name}: the measuring process failed (${run.status ?? run.signal})`);
        results.push(JSON.parse(last) as NetworkResult);
        fs.rmSync(file, { force: true });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const finished = machine();
    console.log(report(results));
    console.log(`load ${started.loadAverage} at the start, ${finished.loadAverage} at the end`);
    console.log(`wrote ${writeResults("training-step", { machine: started, loadAtEnd: finished.loadAverage, threads, rounds, results })}`);
  }
}
