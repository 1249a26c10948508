/**
 * One training step on ONNX Runtime beside PyTorch's, for the benchmarks: the ONNX training step
 * of src/backends/onnx/training (SGD with momentum 0.9, trained-like weights, one fixed batch of
 * random clips and labels, every output preallocated so that no copy back to JavaScript is timed)
 * and torchvision's network of the same architecture in PyTorch (bench/lib/torch_train_step.py),
 * each as a runner of timed steps that a benchmark interleaves.
 */
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { LEARNING_RATE } from "../../src/backends/onnx/training/optimizer.js";
import { buildTrainingStep, LABELS } from "../../src/backends/onnx/training/step.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { repoRoot } from "./harness.js";
import { trainedLikeWeights } from "./onnx-fixtures.js";
import { DEFAULT_PYTHON, startTorch, type TorchWorker } from "./torch.js";

export interface StepRunner {
  /** Times `runs` steps (ms each). */
  run(runs: number): Promise<number[]>;
  release(): Promise<void>;
  /** Nodes of the step's ONNX graph. */
  readonly nodes: number;
}

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/** The ONNX training step of `network` at `batch`, in an ONNX Runtime CPU session with `threads` intra-op threads. */
export async function onnxTrainingStep(network: CheckedNetwork, batch: number, threads: number): Promise<StepRunner> {
  const step = buildTrainingStep(network, {
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
  };
}

/** PyTorch's step of a torchvision video network, or why there is none. */
export async function torchTrainingStep(
  model: "r3d_18" | "mc3_18" | "r2plus1d_18",
  clip: { frames: number; size: number; batch: number },
  threads: number,
  python = DEFAULT_PYTHON,
): Promise<(StepRunner & { readonly worker: TorchWorker; peakRssMiB: number }) | { readonly missing: string }> {
  const started = await startTorch(path.join(repoRoot(), "bench", "lib", "torch_train_step.py"), [String(threads)], python);
  if ("missing" in started) return started;
  const runner = {
    worker: started,
    nodes: 0,
    peakRssMiB: 0,
    run: async (runs: number) => {
      const answer = await started.request<{ samples: number[]; peak_rss_mib: number }>({ model, ...clip, runs, warmup: 1 });
      runner.peakRssMiB = answer.peak_rss_mib;
      return answer.samples;
    },
    release: async () => started.close(),
  };
  return runner;
}
