/**
 * Optical flow for `optical_flow` streams: OpenCV's Farneback (opencv-js; the build ships no
 * other dense algorithm) between consecutive clip frames, on grey frames at the clip's resize
 * size, before cropping, so that every crop of a frame pair reuses one field.
 *
 * Values. Each displacement (pixels) is clipped to [-bound, bound] and stored as a byte the way
 * TSN / MMAction2 store flow images, q = round(255 (d + bound) / (2 bound)); the network sees
 * q * 2 / 255 - 1, in [-1, 1]. Fresh and cached fields therefore give identical inputs. A
 * horizontal flip mirrors the field and negates its x displacement.
 *
 * Cache. Fields are cached on disk under `<cache>/flow/<key>/<a>-<b>.flow`, the key hashing the
 * video's content hash, the flow parameters and the frame size, so a second epoch reads instead
 * of recomputing; files appear atomically, so workers may race on one.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import type cvModule from "@techstark/opencv-js";
import { subsampleIndices } from "../ops/temporal.js";
import type { IrGraph, PipelineStep } from "../ir/graph.js";
import { writeFileAtomic } from "../runtime/files.js";

/** The optical_flow operator's parameters. */
export interface FlowParams {
  readonly algorithm: "farneback";
  readonly bound: number;
  readonly pyrScale: number;
  readonly levels: number;
  readonly winsize: number;
  readonly iterations: number;
  readonly polyN: number;
  readonly polySigma: number;
}

/** One `optical_flow` stream of a network, as plain data (workers receive it). */
export interface FlowStream {
  /** The graph input it feeds (the stream's name). */
  readonly input: string;
  /** Clip frame positions whose consecutive pairs give the fields (pairs + 1 of them). */
  readonly positions: readonly number[];
  /** [H, W, 2 * pairs] when stacked, else [pairs, H, W, 2]. */
  readonly stack: boolean;
  readonly params: FlowParams;
}

/**
 * The flow streams of a lowered graph: its inputs the data pipeline computes (`kind: "stream"`).
 * A flow stream reads the raw clip directly or through `subsample`; its `pairs + 1` frames are the
 * middle ones of what reaches it (all of them when the clip is exactly pairs + 1 frames long, as
 * in the two-stream nets). Throws for a pipeline the data pipeline cannot compute.
 */
export function flowStreams(graph: IrGraph): FlowStream[] {
  return graph.inputs.filter((i) => i.kind === "stream").map((input) => flowStream(input.name, input.pipeline ?? [], graph.protocol?.frames ?? 0));
}

/**
 * The flow stream computed by `pipeline` (optionally `subsample`, then `optical_flow`) from clips
 * of `frames` frames, feeding input `name`: a graph's input, or an exported model's (its
 * `vnet.inputs` metadata lists the same pipeline).
 */
export function flowStream(name: string, pipeline: readonly PipelineStep[], frames: number): FlowStream {
  const flow = pipeline.at(-1);
  if (!flow || flow.op !== "optical_flow")
    throw new Error(`stream \`${name}\` is computed by ${pipeline.map((p) => p.op).join(" -> ") || "nothing"}; the data pipeline computes optical flow`);
  let positions = Array.from({ length: frames }, (_, i) => i);
  for (const step of pipeline.slice(0, -1)) {
    if (step.op !== "subsample")
      throw new Error(`optical_flow of stream \`${name}\` reads ${step.op}; flow is computed from raw frames, optionally subsampled`);
    positions = subsampleIndices(positions.length, step.args).map((i) => positions[i]!);
  }
  const a = flow.args;
  const pairs = a.pairs as number;
  const first = Math.floor((positions.length - (pairs + 1)) / 2);
  return {
    input: name,
    positions: positions.slice(first, first + pairs + 1),
    stack: a.stack !== false,
    params: {
      algorithm: "farneback",
      bound: (a.bound as number | undefined) ?? 20,
      pyrScale: (a.pyr_scale as number | undefined) ?? 0.5,
      levels: (a.levels as number | undefined) ?? 3,
      winsize: (a.winsize as number | undefined) ?? 15,
      iterations: (a.iterations as number | undefined) ?? 3,
      polyN: (a.poly_n as number | undefined) ?? 5,
      polySigma: (a.poly_sigma as number | undefined) ?? 1.1,
    },
  };
}

/** The shape of a flow stream's fields for one view (without batch). */
export function flowShape(stream: FlowStream, height: number, width: number): number[] {
  const pairs = stream.positions.length - 1;
  return stream.stack ? [height, width, 2 * pairs] : [pairs, height, width, 2];
}

type OpenCv = typeof cvModule;
let ready: Promise<{ readonly cv: OpenCv }> | undefined;

/**
 * The OpenCV runtime, once its WebAssembly has initialised (about 0.2 s, once per thread). It
 * comes wrapped, and is loaded with `require`, not `import`: the module is a thenable that
 * resolves to itself, so anything awaiting the module itself (a dynamic import, a promise of it,
 * a test runner's transformed static import) never settles.
 */
export function opencv(): Promise<{ readonly cv: OpenCv }> {
  ready ??= new Promise((resolve) => {
    const module = createRequire(import.meta.url)("@techstark/opencv-js") as OpenCv & { onRuntimeInitialized?: () => void };
    if (module.Mat) resolve({ cv: module });
    else module.onRuntimeInitialized = () => resolve({ cv: module });
  });
  return ready;
}

/** Grey levels (OpenCV's RGB2GRAY weights) of an RGB frame with values in [0, 1]. */
function grey(cv: OpenCv, rgb: Float32Array, width: number, height: number): InstanceType<OpenCv["Mat"]> {
  const bytes = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, rgb[i]!)) * 255);
  const colour = cv.matFromArray(height, width, cv.CV_8UC3, bytes);
  const out = new cv.Mat();
  try {
    cv.cvtColor(colour, out, cv.COLOR_RGB2GRAY);
  } finally {
    colour.delete();
  }
  return out;
}

/** The flow field from frame `a` to frame `b` (RGB in [0, 1]), quantised: bytes [height, width, 2] (x, y). */
export function farneback(cv: OpenCv, a: Float32Array, b: Float32Array, width: number, height: number, params: FlowParams): Uint8Array {
  const prev = grey(cv, a, width, height);
  const next = grey(cv, b, width, height);
  const field = new cv.Mat();
  try {
    cv.calcOpticalFlowFarneback(prev, next, field, params.pyrScale, params.levels, params.winsize, params.iterations, params.polyN, params.polySigma, 0);
    const values = field.data32F;
    const out = new Uint8Array(values.length);
    const scale = 255 / (2 * params.bound);
    for (let i = 0; i < values.length; i++) out[i] = Math.round((Math.min(params.bound, Math.max(-params.bound, values[i]!)) + params.bound) * scale);
    return out;
  } finally {
    prev.delete();
    next.delete();
    field.delete();
  }
}

/** A stored flow byte as the network sees it, in [-1, 1]. */
export function flowValue(q: number): number {
  return (q * 2) / 255 - 1;
}

/** Where a video's fields for one parameter set and frame size are cached. */
export function flowCacheDir(cacheDir: string, videoHash: string, params: FlowParams, width: number, height: number): string {
  const key = createHash("sha256").update(JSON.stringify({ videoHash, params, width, height })).digest("hex").slice(0, 32);
  return path.join(cacheDir, "flow", key);
}

/** Counters of the disk cache, for tests and the benchmark. */
export const flowCacheStats = { hits: 0, misses: 0 };

/**
 * The quantised field between raw frames `a` and `b`, read from the cache directory when there
 * (and `dir` is given), else computed by `compute` and stored there.
 */
export function cachedFlow(dir: string | undefined, a: number, b: number, bytes: number, compute: () => Uint8Array): Uint8Array {
  if (!dir) return compute();
  const file = path.join(dir, `${a}-${b}.flow`);
  try {
    const stored = fs.readFileSync(file);
    if (stored.length === bytes) {
      flowCacheStats.hits++;
      return new Uint8Array(stored.buffer, stored.byteOffset, stored.length);
    }
  } catch {
    // Not cached yet.
  }
  flowCacheStats.misses++;
  const field = compute();
  writeFileAtomic(file, field, { durable: false, createDirectory: true });
  return field;
}
