/**
 * Conv gradients on ONNX Runtime's CPU provider beside PyTorch, per layer configuration of r3d_18
 * (8x112x112, batch 2), c3d (16x112x112, batch 2), i3d_r50 (8x224x224, batch 1) and slowfast_r50
 * (its 32x224x224 clip, batch 1): the configurations are the Conv nodes of the ONNX forward graph
 * (after the IR passes, so "same" padding of strided convs is a Pad before a valid Conv). For each,
 * the forward Conv, every input-gradient (dX) and weight-gradient (dW) formulation of
 * src/backends/onnx/autodiff/conv-gradient.ts, and PyTorch's forward and
 * aten.convolution_backward for dX and dW alone, interleaved round by round so that the ratios
 * stay meaningful on a busy machine. Prints, per network, each formulation's time as a ratio to
 * PyTorch's for the same pass, the formulation the rule chooses and the fastest measured, and the
 * network's totals (each configuration times its number of layers): chosen, fastest, the issue's
 * baseline (ConvTranspose for dX, the better of the swapped-Conv and im2col dW) and PyTorch.
 * dX is left out for a Conv that reads the network's input (no gradient is needed there).
 * A formulation slower than 4x the best of its pass after the first round is not run again.
 * First, the whole r3d_18 training step (8x112x112, batch 2) with the chosen formulations beside
 * PyTorch's (bench/lib/train-step.ts; `--no-step` leaves it out).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/conv-grad.js [--specs r3d_18,c3d,i3d_r50,slowfast_r50,x3d_m,csn_r50]
 *     [--threads 2] [--rounds 3] [--runs 2] [--cpu] [--only layer-substring] [--no-step] [--python /usr/bin/python3]
 *
 * --cpu times process CPU time instead of wall-clock time on both sides (with --threads 1 it is the
 * work each side does, nearly independent of the machine's load; but on one thread PyTorch sends
 * 1x1 kernels at small batch through its BLAS, which Debian's torch has unoptimised: the table
 * names PyTorch's backend where it is not oneDNN).
 */
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../src/backends/onnx/builder.js";
import {
  chooseInputGradient,
  chooseWeightGradient,
  convConfig,
  convNodeAttributes,
  emitConvInputGradient,
  emitConvWeightGradient,
  inputGradientFormulations,
  weightGradientFormulations,
  type ConvConfig,
  type InputGradientFormulation,
  type WeightGradientFormulation,
} from "../src/backends/onnx/autodiff/conv-gradient.js";
import type { IrGraph } from "../src/ir/graph.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { resolveWindow, windowDims } from "../src/ops/geometry.js";
import { checkFiles } from "../src/semantics/check.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, table, writeResults } from "./lib/harness.js";
import { checkResized } from "./lib/onnx-fixtures.js";
import { DEFAULT_PYTHON, startTorch, type TorchWorker } from "./lib/torch.js";
import { NETWORKS, onnxTrainingStep, torchTrainingStep } from "./lib/train-step.js";

/** More networks for `--specs`: the depthwise Convs of X3D and CSN. */
export const MORE_NETWORKS: Readonly<Record<string, { readonly input?: readonly [number, number]; readonly batch: number }>> = {
  x3d_m: { batch: 1 },
  csn_r50: { input: [8, 224], batch: 1 },
};

/** A Conv configuration of a network, the layers that have it, and whether dX is needed. */
export interface NetworkConv {
  readonly conv: ConvConfig;
  readonly layers: readonly string[];
  readonly needsInputGradient: boolean;
}

/** The Conv configurations of a lowered graph at batch `batch`, in graph order, identical ones merged. */
export function networkConvs(graph: IrGraph, batch: number): NetworkConv[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const trainableAbove = new Map<number, boolean>();
  const hasTrainableAbove = (id: number): boolean => {
    const known = trainableAbove.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const result = node.inputs.some((i) => (byId.get(i)!.weights ?? []).some((w) => w.trainable) || hasTrainableAbove(i));
    trainableAbove.set(id, result);
    return result;
  };
  const merged = new Map<string, { conv: ConvConfig; layers: string[]; needsInputGradient: boolean }>();
  for (const node of graph.nodes) {
    if (node.op !== "conv2d" && node.op !== "conv3d") continue;
    if (node.layout?.startsWith("(NT)")) throw new Error(`${node.name}: convs inside per_frame are not part of this benchmark`);
    const x = byId.get(node.inputs[0]!)!;
    const dims = windowDims(node.op);
    const g = resolveWindow(x.shape, node.args, dims, false);
    const groups = (node.args.groups as number | undefined) ?? 1;
    const channels = x.shape.at(-1)!;
    const conv = convConfig(
      { kernel_shape: g.kernel, strides: g.stride, dilations: g.dilation, pads: [...g.before, ...g.after], group: groups },
      [batch, channels, ...x.shape.slice(0, dims)],
      [node.args.filters as number, channels / groups, ...g.kernel],
    );
    const key = JSON.stringify(conv);
    const entry = merged.get(key) ?? { conv, layers: [], needsInputGradient: false };
    entry.layers.push(node.name);
    entry.needsInputGradient ||= hasTrainableAbove(node.id);
    merged.set(key, entry);
  }
  return [...merged.values()];
}

type Pass = "forward" | "input" | "weight";
const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Builds one pass of `conv` as its own ONNX model and returns a timed runner (outputs preallocated). */
async function onnxPass(
  conv: ConvConfig,
  pass: Pass,
  formulation: string | undefined,
  threads: number,
  clock: () => number,
): Promise<{ run: (runs: number) => Promise<number[]>; release: () => Promise<void> }> {
  const graph = new GraphBuilder();
  const xDims = [conv.batch, conv.inChannels, ...conv.input];
  const wDims = [conv.outChannels, conv.inChannels / conv.groups, ...conv.kernel];
  const yDims = [conv.batch, conv.outChannels, ...conv.out];
  const inputs: Record<string, number[]> = pass === "forward" ? { x: xDims, w: wDims } : pass === "input" ? { dy: yDims, w: wDims } : { x: xDims, dy: yDims };
  for (const [name, dims] of Object.entries(inputs)) graph.input(name, dims);
  const result =
    pass === "forward"
      ? graph.op("Conv", ["x", "w"], "y", convNodeAttributes(conv))
      : pass === "input"
        ? emitConvInputGradient(graph, conv, "dy", "w", "dx", formulation as InputGradientFormulation)
        : emitConvWeightGradient(graph, conv, "x", "dy", "dw", formulation as WeightGradientFormulation);
  const outDims = pass === "forward" ? yDims : pass === "input" ? xDims : wDims;
  graph.reserve("out");
  graph.output(result, "out", outDims);
  const bytes = graph.serialize({ name: `conv_${pass}`, opset: 17, producerVersion: "bench", docString: "", metadata: {} });
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  });
  const random = (dims: readonly number[]) => {
    const data = new Float32Array(product(dims));
    for (let i = 0; i < data.length; i++) data[i] = Math.random() - 0.5;
    return new ort.Tensor("float32", data, [...dims]);
  };
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, dims]) => [name, random(dims)]));
  const fetches = { out: new ort.Tensor("float32", new Float32Array(product(outDims)), outDims) };
  await session.run(feeds, fetches);
  return {
    run: async (runs) => {
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = clock();
        await session.run(feeds, fetches);
        samples.push(clock() - started);
      }
      return samples;
    },
    release: () => session.release(),
  };
}

/** One measured configuration: medians in ms (undefined: not run, or dropped as too slow). */
export interface ConvTimes {
  /** PyTorch's medians, and the convolution backend it picked (Mkldnn is oneDNN). */
  readonly torch?: { readonly forward: number; readonly input?: number; readonly weight: number; readonly backend: string };
  readonly forward: number;
  readonly input: Readonly<Partial<Record<InputGradientFormulation, number>>>;
  readonly weight: Readonly<Partial<Record<WeightGradientFormulation, number>>>;
  /** Formulations dropped after the first round, with that round's median. */
  readonly dropped: readonly string[];
}

async function measureConv(
  entry: NetworkConv,
  torch: TorchWorker | undefined,
  options: { threads: number; rounds: number; runs: number; cpu: boolean },
): Promise<ConvTimes> {
  const clock = options.cpu ? () => (process.cpuUsage().user + process.cpuUsage().system) / 1000 : () => performance.now();
  const variants: { key: string; pass: Pass; formulation?: string; run: (runs: number) => Promise<number[]>; release?: () => Promise<void> }[] = [];
  const add = async (pass: Pass, formulation?: string) => {
    const runner = await onnxPass(entry.conv, pass, formulation, options.threads, clock);
    variants.push({ key: `${pass}:${formulation ?? "conv"}`, pass, ...(formulation ? { formulation } : {}), ...runner });
  };
  await add("forward");
  if (entry.needsInputGradient) for (const f of inputGradientFormulations(entry.conv)) await add("input", f);
  for (const f of weightGradientFormulations(entry.conv)) await add("weight", f);
  let backend = "";
  if (torch) {
    const passes: Pass[] = entry.needsInputGradient ? ["forward", "input", "weight"] : ["forward", "weight"];
    for (const pass of passes)
      variants.push({
        key: `torch:${pass}`,
        pass,
        run: async (runs) => {
          const answer = await torch.request<{ samples: number[]; backend: string }>({ conv: entry.conv, pass, runs, warmup: 1 });
          backend = answer.backend;
          return answer.samples;
        },
      });
  }
  const samples = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  const dropped: string[] = [];
  let active = variants;
  for (let round = 0; round < options.rounds; round++) {
    for (const v of active) samples.get(v.key)!.push(...(await v.run(options.runs)));
    if (round === 0) {
      const best = (pass: Pass) => Math.min(...active.filter((v) => v.pass === pass && v.formulation).map((v) => median(samples.get(v.key)!)));
      const slow = active.filter((v) => v.formulation && median(samples.get(v.key)!) > 4 * best(v.pass));
      for (const v of slow) {
        dropped.push(v.key);
        await v.release?.();
      }
      active = active.filter((v) => !slow.includes(v));
    }
  }
  for (const v of active) await v.release?.();
  const of = (key: string) => (samples.get(key)!.length ? median(samples.get(key)!) : undefined);
  const pick = <F extends string>(pass: Pass, formulations: readonly F[]) =>
    Object.fromEntries(formulations.flatMap((f) => (of(`${pass}:${f}`) === undefined ? [] : [[f, of(`${pass}:${f}`)!]]))) as Partial<Record<F, number>>;
  return {
    ...(torch
      ? { torch: { forward: of("torch:forward")!, ...(entry.needsInputGradient ? { input: of("torch:input")! } : {}), weight: of("torch:weight")!, backend } }
      : {}),
    forward: of("forward:conv")!,
    input: entry.needsInputGradient ? pick("input", inputGradientFormulations(entry.conv)) : {},
    weight: pick("weight", weightGradientFormulations(entry.conv)),
    dropped,
  };
}

const fastest = <F extends string>(times: Readonly<Partial<Record<F, number>>>): F | undefined =>
  (Object.entries(times) as [F, number][]).sort((a, b) => a[1] - b[1])[0]?.[0];

function describe(conv: ConvConfig): string {
  const axes = (v: readonly number[]) => v.join("x");
  const pads = conv.before.some((p) => p) || conv.after.some((p) => p) ? ` p${conv.before.join(",")}/${conv.after.join(",")}` : "";
  const extra = (conv.dilation.some((d) => d !== 1) ? ` d${axes(conv.dilation)}` : "") + (conv.groups !== 1 ? ` g${conv.groups}` : "");
  return `${conv.inChannels}->${conv.outChannels} k${axes(conv.kernel)} s${axes(conv.stride)}${pads}${extra} @${conv.batch}x${axes(conv.input)}`;
}

interface NetworkResult {
  readonly network: string;
  readonly convs: readonly (NetworkConv & {
    readonly times: ConvTimes;
    readonly chosen: { readonly input?: InputGradientFormulation; readonly weight: WeightGradientFormulation };
  })[];
  readonly totals: Readonly<Record<string, number>>;
}

function report(result: NetworkResult, hasTorch: boolean): string {
  const ratio = (value: number | undefined, reference: number | undefined) =>
    value === undefined ? "-" : reference ? `${(value / reference).toFixed(2)}` : `${value.toFixed(1)}ms`;
  const dxNames = ["phase-conv", "conv-transpose"] as const;
  const dwNames = ["folded-conv", "swap-conv", "im2col-matmul"] as const;
  const header = [
    "layers",
    "configuration",
    ...(hasTorch ? ["torch fwd/dx/dw ms"] : []),
    "fwd",
    ...dxNames.map((n) => `dx ${n}`),
    "dx chosen",
    ...dwNames.map((n) => `dw ${n}`),
    "dw chosen",
  ];
  const rows = result.convs.map(({ conv, layers, times, chosen, needsInputGradient }) => {
    const t = times.torch;
    const mark = <F extends string>(f: F | undefined, measured: Readonly<Partial<Record<F, number>>>) =>
      f === undefined ? "-" : `${f}${fastest(measured) === f ? "" : ` (fastest ${fastest(measured)})`}`;
    return [
      `${layers[0]}${layers.length > 1 ? ` x${layers.length}` : ""}`,
      describe(conv),
      ...(hasTorch
        ? [`${t!.forward.toFixed(1)}/${t!.input?.toFixed(1) ?? "-"}/${t!.weight.toFixed(1)}${t!.backend === "Mkldnn" ? "" : ` (${t!.backend})`}`]
        : []),
      ratio(times.forward, t?.forward),
      ...dxNames.map((n) => (needsInputGradient ? (times.dropped.includes(`input:${n}`) ? ">4x best" : ratio(times.input[n], t?.input)) : "-")),
      needsInputGradient ? mark(chosen.input, times.input) : "-",
      ...dwNames.map((n) => (times.dropped.includes(`weight:${n}`) ? ">4x best" : ratio(times.weight[n], t?.weight))),
      mark(chosen.weight, times.weight),
    ];
  });
  const t = result.totals;
  const versus = (value: number, reference: number | undefined) => `${value.toFixed(0)} ms${reference ? ` (${(value / reference).toFixed(2)}x)` : ""}`;
  const blas = result.convs.some((c) => c.times.torch && c.times.torch.backend !== "Mkldnn");
  return [
    table(header, rows),
    ...(blas
      ? [
          "(Slow3d, Slow2d, ...: PyTorch computes that Conv through its BLAS, not oneDNN; Debian's torch has the reference libblas, so its times there flatter ONNX Runtime)",
        ]
      : []),
    `whole network, every layer: conv dX + dW: PyTorch ${t.torch?.toFixed(0) ?? "-"} ms, chosen ${versus(t.chosen!, t.torch)}, fastest measured ${versus(t.fastest!, t.torch)}, issue's baseline ${versus(t.baseline!, t.torch)}`,
    `                            conv forward: PyTorch ${t.torchForward?.toFixed(0) ?? "-"} ms, ONNX Runtime ${versus(t.forward!, t.torchForward)}`,
  ].join("\n");
}

async function benchmarkNetwork(
  name: string,
  torch: TorchWorker | undefined,
  options: { threads: number; rounds: number; runs: number; cpu: boolean; only?: string },
): Promise<NetworkResult> {
  const { input, batch } = NETWORKS[name] ?? MORE_NETWORKS[name] ?? { batch: 1 };
  const file = path.join(repoRoot(), "specs", `${name}.vnet`);
  const network = input ? checkResized(file, input[0], input[1]).network : checkFiles([file]).networks[0]!;
  const convs = networkConvs(lowerNetwork(network), batch).filter((c) => !options.only || c.layers.some((l) => l.includes(options.only!)));
  const measured: NetworkResult["convs"][number][] = [];
  for (const entry of convs) {
    const times = await measureConv(entry, torch, options);
    measured.push({
      ...entry,
      times,
      chosen: { ...(entry.needsInputGradient ? { input: chooseInputGradient(entry.conv) } : {}), weight: chooseWeightGradient(entry.conv) },
    });
    process.stderr.write(".");
  }
  process.stderr.write("\n");
  const sum = (value: (c: (typeof measured)[number]) => number | undefined) => measured.reduce((total, c) => total + c.layers.length * (value(c) ?? NaN), 0);
  const inputOf = (c: (typeof measured)[number], f: InputGradientFormulation | undefined) => (c.needsInputGradient ? c.times.input[f!] : 0);
  const totals: Record<string, number> = {
    chosen: sum((c) => (inputOf(c, c.chosen.input) ?? NaN) + (c.times.weight[c.chosen.weight] ?? NaN)),
    fastest: sum((c) => (inputOf(c, fastest(c.times.input)) ?? 0) + c.times.weight[fastest(c.times.weight)!]!),
    baseline: sum(
      (c) => (inputOf(c, "conv-transpose") ?? NaN) + Math.min(c.times.weight["swap-conv"] ?? Infinity, c.times.weight["im2col-matmul"] ?? Infinity),
    ),
    forward: sum((c) => c.times.forward),
  };
  if (torch) {
    totals.torch = sum((c) => (c.times.torch!.input ?? 0) + c.times.torch!.weight);
    totals.torchForward = sum((c) => c.times.torch!.forward);
  }
  return { network: name, convs: measured, totals };
}

/** The whole r3d_18 training step (8x112x112, batch 2, SGD) on ONNX Runtime beside PyTorch's torchvision r3d_18, interleaved. */
async function wholeStep(options: { threads: number; rounds: number }, python: string): Promise<Record<string, unknown> | undefined> {
  const clip = { frames: 8, size: 112, batch: 2 };
  const network = checkResized(path.join(repoRoot(), "specs", "r3d_18.vnet"), clip.frames, clip.size).network;
  const onnx = await onnxTrainingStep(network, clip.batch, options.threads);
  const torch = await torchTrainingStep("r3d_18", clip, options.threads, python);
  const samples: { onnx: number[]; torch: number[] } = { onnx: [], torch: [] };
  for (let round = 0; round < options.rounds; round++) {
    samples.onnx.push(...(await onnx.run(1)));
    if (!("missing" in torch)) samples.torch.push(...(await torch.run(1)));
  }
  await onnx.release();
  // Peak resident memory of this process so far: the step runs before the per-layer measurements.
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  const result = {
    clip,
    onnxMs: median(samples.onnx),
    torchMs: "missing" in torch ? null : median(samples.torch),
    onnxRssMiB: rssMiB,
    torchPeakRssMiB: "missing" in torch ? null : torch.peakRssMiB,
    samples,
  };
  if ("missing" in torch)
    console.log(
      `\nwhole r3d_18 training step (8x112x112, batch 2, SGD): ONNX Runtime ${result.onnxMs.toFixed(0)} ms; PyTorch is not available (${torch.missing})`,
    );
  else {
    await torch.release();
    console.log(
      `\nwhole r3d_18 training step (8x112x112, batch 2, SGD with momentum, ${options.threads} threads, median of ${options.rounds} interleaved): ONNX Runtime ${result.onnxMs.toFixed(0)} ms, PyTorch ${result.torchMs!.toFixed(0)} ms (${(result.onnxMs / result.torchMs!).toFixed(2)}x); peak resident memory: ONNX Runtime's process ${rssMiB.toFixed(0)} MiB, PyTorch's ${torch.peakRssMiB.toFixed(0)} MiB`,
    );
  }
  return result;
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const specs = (flags.get("specs") ?? Object.keys(NETWORKS).join(",")).split(",");
  const options = {
    threads: Number(flags.get("threads") ?? 2),
    rounds: Number(flags.get("rounds") ?? 3),
    runs: Number(flags.get("runs") ?? 2),
    cpu: flags.has("cpu"),
    ...(flags.has("only") ? { only: flags.get("only")! } : {}),
  };
  console.log(describeMachine(machine()));
  const started = await startTorch(
    path.join(repoRoot(), "bench", "lib", "torch_conv.py"),
    [String(options.threads), options.cpu ? "cpu" : "wall"],
    flags.get("python") ?? DEFAULT_PYTHON,
  );
  const torch = "missing" in started ? undefined : started;
  console.log(
    torch
      ? `PyTorch ${torch.version} (${torch.threads} threads) beside ONNX Runtime ${ort.env.versions.common} (${options.threads} intra-op threads); ratios are ONNX Runtime / PyTorch for the same pass, medians of ${options.rounds} rounds x ${options.runs} runs, ${options.cpu ? "process CPU time" : "wall-clock time"}`
      : `PyTorch is not available (${(started as { missing: string }).missing}): absolute ONNX Runtime times only`,
  );
  const step = flags.has("no-step") ? undefined : await wholeStep(options, flags.get("python") ?? DEFAULT_PYTHON);
  const results: NetworkResult[] = [];
  for (const name of specs) {
    const result = await benchmarkNetwork(name, torch, options);
    results.push(result);
    console.log(`\n${name} (batch ${(NETWORKS[name] ?? MORE_NETWORKS[name])?.batch ?? 1}):\n${report(result, Boolean(torch))}`);
  }
  torch?.close();
  console.log(
    `\nwrote ${writeResults("conv-grad", { machine: machine(), torch: torch ? { version: torch.version, threads: torch.threads } : null, options, results, step })}`,
  );
}
