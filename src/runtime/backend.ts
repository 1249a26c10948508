/**
 * Chooses the tfjs backend that runs models: the native TensorFlow bindings with CUDA
 * (@tensorflow/tfjs-node-gpu), then without (@tensorflow/tfjs-node), then WebAssembly
 * (@tensorflow/tfjs-backend-wasm), then the pure-JavaScript cpu backend, which always works. The
 * native packages are optional dependencies whose install downloads libtensorflow; where that
 * failed they are absent and are skipped here. Every attempt is recorded so the CLI can say which
 * backend runs and why the faster ones do not.
 */
import * as tf from "@tensorflow/tfjs";
import { installWasmKernelFixes } from "./wasm-kernels.js";

export type BackendChoice = "node-gpu" | "node" | "wasm" | "cpu";

interface Candidate {
  readonly choice: BackendChoice;
  /** The package to import, which registers the backend. */
  readonly module?: string;
  /** The tfjs backend name it registers. */
  readonly backend: string;
}

/** In order of preference. */
export const CANDIDATES: readonly Candidate[] = [
  { choice: "node-gpu", module: "@tensorflow/tfjs-node-gpu", backend: "tensorflow" },
  { choice: "node", module: "@tensorflow/tfjs-node", backend: "tensorflow" },
  { choice: "wasm", module: "@tensorflow/tfjs-backend-wasm", backend: "wasm" },
  { choice: "cpu", backend: "cpu" },
];

export interface BackendAttempt {
  readonly choice: BackendChoice;
  /** Why it was not used. */
  readonly reason: string;
}

export interface BackendSelection {
  readonly choice: BackendChoice;
  /** tfjs's name for it (`tf.getBackend()`). */
  readonly backend: string;
  /** Faster backends that were tried first, and why they are not running. */
  readonly skipped: readonly BackendAttempt[];
  /** Kernels the caller needs that the chosen backend lacks (only when it was forced). */
  readonly missingKernels: readonly string[];
}

export interface SelectOptions {
  /** Use exactly this backend (the `--backend` flag); fails if it cannot start. */
  readonly force?: BackendChoice;
  /**
   * Kernels the work needs (e.g. the pooling gradients for training); a backend without all of
   * them is skipped unless forced.
   */
  readonly requiredKernels?: readonly string[];
  /** Backends to pass over unless forced, with the reason (see `workloadAvoidances`). */
  readonly avoid?: readonly BackendAttempt[];
}

/** Operators that run as 3D convolutions once lowered. */
const CONV3D_OPS = new Set(["conv3d", "conv2plus1d", "lateral", "nonlocal"]);

/**
 * Backends that would train this network slower than the next candidate: on the wasm backend a
 * 3D conv runs as 2D convs per temporal tap, fast forward but with a costly backward pass, so for
 * networks whose work is mostly 3D convolution the cpu backend trains as fast or faster
 * (bench/tfjs-latency.ts, batch-2 training step: tiny_r3d 782 ms on wasm vs 394 ms on cpu,
 * tiny_r2plus1d 1069 vs 741 ms), while wasm trains 2D networks ~10 times faster and runs every
 * network's inference faster.
 */
export function workloadAvoidances(layers: readonly { readonly op: string; readonly macs: number }[]): BackendAttempt[] {
  const total = layers.reduce((sum, l) => sum + l.macs, 0);
  const conv3d = layers.filter((l) => CONV3D_OPS.has(l.op)).reduce((sum, l) => sum + l.macs, 0);
  if (total === 0 || conv3d / total <= 0.5) return [];
  return [
    {
      choice: "wasm",
      reason: `it trains 3D convolutions slower than cpu, and ${Math.round((100 * conv3d) / total)}% of this network's MACs are 3D convolutions`,
    },
  ];
}

/**
 * Kernels that training vnet's models calls on top of inference. Conv2DBackpropFilter is not among
 * them: on the backends that lack it (wasm) vnet's conv layer computes the filter gradient as a
 * forward convolution.
 */
export const TRAINING_KERNELS: readonly string[] = [
  "Conv2DBackpropInput",
  "Conv3DBackpropFilterV2",
  "Conv3DBackpropInputV2",
  "MaxPoolGrad",
  "MaxPool3DGrad",
  "AvgPoolGrad",
  "AvgPool3DGrad",
  "LRNGrad",
];

/** The kernels of `names` that `backend` does not implement. */
export function missingKernels(backend: string, names: readonly string[]): string[] {
  return names.filter((name) => !tf.getKernel(name, backend));
}

async function start(candidate: Candidate): Promise<void> {
  if (candidate.module) {
    // A computed specifier: the optional packages may be absent, and TypeScript must not resolve them.
    const specifier: string = candidate.module;
    await import(specifier);
  }
  if (!(await tf.setBackend(candidate.backend))) throw new Error(`tfjs could not initialise the ${candidate.backend} backend`);
  await tf.ready();
  if (candidate.backend === "wasm") installWasmKernelFixes();
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Cannot find (module|package)/.test(message)) return "not installed";
  return message.split("\n")[0]!;
}

/**
 * Starts the first backend that works (or the forced one) and makes it tfjs's current backend.
 * Throws only when a forced backend cannot start.
 */
export async function selectBackend(options: SelectOptions = {}): Promise<BackendSelection> {
  const required = options.requiredKernels ?? [];
  const skipped: BackendAttempt[] = [];
  const candidates = options.force ? CANDIDATES.filter((c) => c.choice === options.force) : CANDIDATES;
  for (const candidate of candidates) {
    try {
      await start(candidate);
    } catch (error) {
      if (options.force) throw new Error(`backend ${options.force} cannot start: ${describeError(error)}`);
      skipped.push({ choice: candidate.choice, reason: describeError(error) });
      continue;
    }
    const avoided = options.force ? undefined : options.avoid?.find((a) => a.choice === candidate.choice);
    if (avoided) {
      skipped.push(avoided);
      continue;
    }
    const missing = missingKernels(candidate.backend, required);
    if (missing.length && !options.force && candidate.choice !== "cpu") {
      skipped.push({ choice: candidate.choice, reason: `lacks kernels ${missing.join(", ")}` });
      continue;
    }
    // tfjs prints a hint to install tfjs-node on the cpu backend; vnet reports the choice itself.
    if (candidate.backend === "cpu") tf.env().set("PROD", true);
    return { choice: candidate.choice, backend: candidate.backend, skipped, missingKernels: missing };
  }
  throw new Error("no tfjs backend could start");
}

/** One line for the CLI: `backend: cpu (pure JavaScript; skipped node-gpu: not installed, ...)`. */
export function describeSelection(selection: BackendSelection): string {
  const label: Record<BackendChoice, string> = {
    "node-gpu": "TensorFlow C library with CUDA",
    node: "TensorFlow C library",
    wasm: "WebAssembly",
    cpu: "pure JavaScript, slow for 3D convolutions",
  };
  const skipped = selection.skipped.map((s) => `${s.choice}: ${s.reason}`).join("; ");
  const missing = selection.missingKernels.length ? `; missing kernels ${selection.missingKernels.join(", ")}` : "";
  return `backend: ${selection.choice} (${label[selection.choice]}${skipped ? `; skipped ${skipped}` : ""}${missing})`;
}
