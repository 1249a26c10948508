/**
 * One training step on ONNX Runtime beside PyTorch's, for the benchmarks: the ONNX training step
 * of src/backends/onnx/training (SGD with momentum 0.9, trained-like weights, one fixed batch of
 * random clips and labels, every output preallocated so that no copy back to JavaScript is timed)
 * and, in PyTorch (bench/lib/torch_train_step.py), torchvision's network of the same architecture
 * or vnet's own network as its ONNX export describes it (bench/lib/torch_onnx_module.py), each as a
 * runner of timed steps that a benchmark interleaves.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { LEARNING_RATE } from "../../src/backends/onnx/training/optimizer.js";
import { buildTrainingStep, LABELS } from "../../src/backends/onnx/training/step.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { repoRoot } from "./harness.js";
import { trainedLikeWeights } from "./onnx-fixtures.js";
import { DEFAULT_PYTHON, startTorch, type TorchWorker } from "./torch.js";

/** The networks and inputs issue 12 measures, with their batch sizes (its own clip where there is no input). */
export const NETWORKS: Readonly<Record<string, { readonly input?: readonly [number, number]; readonly batch: number }>> = {
  r3d_18: { input: [8, 112], batch: 2 },
  c3d: { input: [16, 112], batch: 2 },
  i3d_r50: { input: [8, 224], batch: 1 },
  slowfast_r50: { batch: 1 },
};

export interface StepRunner {
  /** Times `runs` steps (ms each). */
  run(runs: number): Promise<number[]>;
  release(): Promise<void>;
  /** Nodes of the step's ONNX graph. */
  readonly nodes: number;
}

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/**
 * The ONNX training step of `network` at `batch`, in an ONNX Runtime CPU session with `threads`
 * intra-op threads; with `profile` (a file prefix), ORT's profiler records every node's kernel time
 * (see `profileByOp`).
 */
export async function onnxTrainingStep(
  network: CheckedNetwork,
  batch: number,
  threads: number,
  profile?: string,
): Promise<StepRunner & { endProfiling(): string | undefined }> {
  const step = buildTrainingStep(lowerNetwork(network), {
    batch,
    optimizer: { kind: "sgd", momentum: 0.9, nesterov: false },
    weightDecay: 0,
  });
  if (!step.bytes) throw new Error(`${network.name}: no training step: ${step.diagnostics.map((d) => d.message).join("; ")}`);
  const session = await ort.InferenceSession.create(step.bytes, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...(profile ? { enableProfiling: true, profileFilePrefix: profile } : {}),
  });
  const tensor = (dims: readonly number[], fill: (i: number) => number) =>
    new ort.Tensor(
      "float32",
      Float32Array.from({ length: product(dims) }, (_, i) => fill(i)),
      [...dims],
    );
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of step.inputs) feeds[input.name] = tensor([batch, ...input.shape], () => Math.random());
  feeds[LABELS] = tensor([batch, step.classes], (i) => (i % step.classes === Math.floor(i / step.classes) % step.classes ? 1 : 0));
  feeds[LEARNING_RATE] = tensor([], () => 0.001);
  for (const mask of step.masks) feeds[mask.input] = tensor([batch * mask.rows, ...mask.shape], () => 1);
  const weights = trainedLikeWeights(1);
  for (const s of step.state) {
    if (s.kind === "slot") feeds[s.input] = tensor(s.dims, () => 0);
    else {
      const values = weights.read(s.decl!);
      const converted = s.layout ? s.layout.toOnnx(values, s.decl!.shape).data : values;
      feeds[s.input] = tensor(s.dims, (i) => converted[i]!);
    }
  }
  const first = await session.run(feeds);
  const fetches = Object.fromEntries(
    session.outputNames.map((name) => [name, new ort.Tensor("float32", new Float32Array(first[name]!.data.length), [...first[name]!.dims])]),
  );
  return {
    nodes: step.nodes,
    run: async (runs) => {
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await session.run(feeds, fetches);
        samples.push(performance.now() - started);
      }
      return samples;
    },
    release: () => session.release(),
    endProfiling: () => {
      if (!profile) return undefined;
      // onnxruntime-node writes `<prefix>_<date>.json` and does not say which: the newest such file.
      const before = new Date();
      session.endProfiling();
      const dir = path.dirname(path.resolve(profile));
      const files = fs.readdirSync(dir).filter((f) => f.startsWith(`${path.basename(profile)}_`) && f.endsWith(".json"));
      const newest = files.map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
      return newest && fs.statSync(newest).mtimeMs >= before.getTime() - 60_000 ? newest : undefined;
    },
  };
}

/** A training-step node's phase, from the names the step gives its nodes (autodiff's `grad/`, the optimizer's). */
export function stepPhase(node: string): "forward" | "backward" | "optimizer" {
  if (node.startsWith("grad/")) return "backward";
  if (node.startsWith("optimizer/") || /\/next(_decayed)?$/.test(node)) return "optimizer";
  return "forward";
}

export interface ProfileBreakdown {
  /** Kernel milliseconds per step, by ONNX operator and phase, largest first. */
  readonly byOp: readonly { readonly op: string; readonly phase: string; readonly ms: number; readonly nodes: number }[];
  readonly totalMs: number;
}

/** Sums an ORT profile's node kernel times (chrome-trace JSON) per operator and phase, divided by the `steps` it recorded. */
export function profileByOp(file: string, steps: number): ProfileBreakdown {
  const events = JSON.parse(fs.readFileSync(file, "utf8")) as { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }[];
  const sums = new Map<string, { op: string; phase: string; us: number; nodes: Set<string> }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name?.endsWith("_kernel_time") || !e.args?.op_name) continue;
    const node = e.name.slice(0, -"_kernel_time".length);
    const phase = stepPhase(node);
    const key = `${e.args.op_name}\u0000${phase}`;
    const entry = sums.get(key) ?? { op: e.args.op_name, phase, us: 0, nodes: new Set<string>() };
    entry.us += e.dur ?? 0;
    entry.nodes.add(node);
    sums.set(key, entry);
  }
  const byOp = [...sums.values()].map((e) => ({ op: e.op, phase: e.phase, ms: e.us / 1000 / steps, nodes: e.nodes.size })).sort((a, b) => b.ms - a.ms);
  return { byOp, totalMs: byOp.reduce((a, e) => a + e.ms, 0) };
}

type TorchRunner = (StepRunner & { readonly worker: TorchWorker; peakRssMiB: number }) | { readonly missing: string };

/** PyTorch's step of a torchvision video network, or why there is none. */
export function torchTrainingStep(
  model: "r3d_18" | "mc3_18" | "r2plus1d_18",
  clip: { frames: number; size: number; batch: number },
  threads: number,
  python = DEFAULT_PYTHON,
): Promise<TorchRunner> {
  return torchStep({ model, ...clip }, threads, python);
}

/**
 * PyTorch's step of vnet's own network: its inference ONNX export (`file`, taking raw clips of
 * `shape` = [T, H, W, C]) rebuilt as PyTorch layers, or why there is none.
 */
export function torchOnnxTrainingStep(
  file: string,
  shape: readonly number[],
  classes: number,
  batch: number,
  threads: number,
  python = DEFAULT_PYTHON,
): Promise<TorchRunner> {
  return torchStep({ model: "onnx", path: file, shape, classes, batch }, threads, python);
}

/** A PyTorch worker (its own process, so its peak memory is the step's alone) timing the step a request describes. */
async function torchStep(request: Record<string, unknown>, threads: number, python: string): Promise<TorchRunner> {
  const started = await startTorch(path.join(repoRoot(), "bench", "lib", "torch_train_step.py"), [String(threads)], python);
  if ("missing" in started) return started;
  let warmup = 1;
  const runner = {
    worker: started,
    nodes: 0,
    peakRssMiB: 0,
    // One untimed step before the first timed one only.
    run: async (runs: number) => {
      const answer = await started.request<{ samples: number[]; peak_rss_mib: number }>({ ...request, runs, warmup });
      warmup = 0;
      runner.peakRssMiB = answer.peak_rss_mib;
      return answer.samples;
    },
    release: async () => started.close(),
  };
  return runner;
}
