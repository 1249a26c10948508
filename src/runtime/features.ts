/**
 * `vnet features`: a classification network run over untrimmed videos as a sliding window. Every
 * video is cut into snippets (src/data/sampling.ts `snippetPlans`: the network's clip spread over
 * `length` raw frames, one every `step` frames, centre crop at the test resize), read through the
 * data pipeline like any test view, and the network gives each snippet the output of one layer
 * (by default the pooled features the classifier reads) and its class probabilities. The
 * snippets' vectors are resampled to `scale` positions as BMN's feature pipeline does
 * (src/data/features.ts) and written as `<video>.npy` [scale, F] and `<video>.scores.npy`
 * [scale, K] with the folder's manifest (features.json).
 *
 * Results are cached under `<cache>/features/` by the video's content hash, the spec's source
 * hash, the weights' hash and every setting, so extracting again after a change recomputes only
 * what the change affects.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { VideoItem } from "../data/dataset.js";
import { MANIFEST, resampleFeatures, snippetSpan, type Extractor, type FeatureEntry, type FeatureManifest } from "../data/features.js";
import type { FlowStream } from "../data/flow.js";
import type { ViewLoader } from "../data/loader.js";
import { snippetLength, snippetPlans, type ClipPlan } from "../data/sampling.js";
import { decodeFrames } from "../data/video/decode.js";
import type { SamplingProtocol } from "../semantics/protocol.js";
import type { IrGraph } from "../ir/graph.js";
import type { FrameSource } from "../data/views.js";
import { outputScores } from "../ir/scores.js";
import type { CheckedNetwork, Layer } from "../semantics/network.js";
import { videoOutputs } from "./evaluate.js";
import { writeFileAtomic } from "./files.js";
import { readNpy, writeNpy } from "./npy.js";

/** Operators between a classifier and the network's output (its scores stay the classifier's). */
const AFTER_CLASSIFIER = new Set(["softmax", "dropout"]);

/**
 * The layer whose output `vnet features` keeps by default: the input of the network's final
 * classifier (`dense`), e.g. `global_avg_pool`; undefined when the output is not a classifier.
 */
export function defaultFeatureLayer(network: CheckedNetwork): string | undefined {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  let layer: Layer | undefined = byId.get(network.outputs[0]!);
  while (layer && AFTER_CLASSIFIER.has(layer.op)) layer = byId.get(layer.inputs[0]!);
  if (layer?.op !== "dense") return undefined;
  const input = byId.get(layer.inputs[0]!);
  return input && input.op !== "input" ? input.name : undefined;
}

/** A model whose one output is [N, F + K]: the layer's features, then the class probabilities. */
export interface FeatureModel {
  readonly model: tf.LayersModel;
  readonly layer: string;
  readonly features: number;
  readonly classes: number;
}

/** Thrown for a layer name the model lacks or a layer whose output is not a vector per clip. */
export class FeatureLayerError extends Error {}

/** The feature model of a trained classifier (its network, lowered graph and model) and a layer name (the default layer when absent). */
export function featureModel(network: CheckedNetwork, graph: IrGraph, model: tf.LayersModel, layerName?: string): FeatureModel {
  const name = layerName ?? defaultFeatureLayer(network);
  if (!name) throw new FeatureLayerError(`${network.name} does not end in a dense classifier; name the layer whose output to keep with --layer`);
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(name);
  } catch {
    const vectors = model.layers.filter((l) => (l.output as tf.SymbolicTensor).shape?.length === 2).map((l) => l.name);
    throw new FeatureLayerError(`${network.name} has no layer \`${name}\`${vectors.length ? `; layers with a vector per clip: ${vectors.join(", ")}` : ""}`);
  }
  const output = layer.output as tf.SymbolicTensor;
  if (output.shape.length !== 2)
    throw new FeatureLayerError(
      `layer \`${name}\` outputs [${output.shape.map((d) => d ?? "N").join(", ")}]; features are one vector per clip [N, F]: pick a pooled layer`,
    );
  const scores = model.outputs[0]!;
  // The IR's answer to "logits or probabilities" decides whether the scores need a softmax.
  const kind = outputScores(graph).kind;
  const probabilities = kind === "logits" ? (tf.layers.softmax({ name: "features/softmax" }).apply(scores) as tf.SymbolicTensor) : scores;
  const joined = tf.layers.concatenate({ name: "features/concat", axis: -1 }).apply([output, probabilities]) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: model.inputs, outputs: joined }), layer: name, features: output.shape[1]!, classes: scores.shape[1]! };
}

/** A video to extract: its id (the output file name), what it is (path or builtin name) and its frames. */
export interface FeatureVideoSource {
  readonly id: string;
  readonly name: string;
  readonly source: FrameSource;
  /** sha256 of the video's content (a file's bytes, a builtin video's pixels). */
  readonly hash: string;
}

export interface ExtractionSettings {
  /** Raw frames per snippet (default: the spec's clip at its test frame step). */
  readonly length?: number;
  /** Raw frames between snippet starts (default: half the length). */
  readonly step?: number;
  /** Positions to resample to (0: keep the snippets). */
  readonly scale: number;
}

export interface ExtractionContext {
  readonly network: CheckedNetwork;
  /** Its lowered graph (what the model is fed by). */
  readonly graph: IrGraph;
  readonly features: FeatureModel;
  /** What the manifest records of the extractor besides the layer, sizes and classes. */
  readonly identity: Pick<Extractor, "spec" | "network" | "specHash" | "weights" | "weightsHash">;
  readonly classNames: readonly string[];
  readonly protocol: SamplingProtocol;
  readonly flows: readonly FlowStream[];
  readonly loader: ViewLoader;
  /** Snippets per model call. */
  readonly batch: number;
  readonly cacheDir?: string;
  readonly progress?: (done: number, total: number, snippets: number) => void;
  readonly onFailure: (video: FeatureVideoSource, error: Error) => void;
}

/** sha256 of a builtin video's pixels: its content hash. */
export function pixelHash(pixels: Float32Array): string {
  return createHash("sha256")
    .update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength))
    .digest("hex");
}

/** sha256 of the files of a checkpoint (model.json, weights.bin): what its features depend on. */
export function weightsHash(dir: string): string {
  const hash = createHash("sha256");
  for (const file of ["model.json", "weights.bin"]) hash.update(fs.readFileSync(path.join(dir, file)));
  return hash.digest("hex");
}

/** Snippets whose frames one ffmpeg pass decodes (a memory source of them at the test resize). */
const SNIPPETS_PER_DECODE = 64;

/**
 * A video's snippets in chunks that each decode once: for a file, one ffmpeg pass over the frames
 * SNIPPETS_PER_DECODE snippets cover (at the test resize), held as a memory source with the plans
 * renumbered onto it, instead of one decode per snippet; a memory source (or an extractor with
 * optical-flow streams, whose flow reads the file's own frames) is read as it is.
 */
async function* snippetChunks(
  source: FrameSource,
  plans: readonly ClipPlan[],
  keepFile: boolean,
): AsyncGenerator<{ source: FrameSource; plans: readonly ClipPlan[] }> {
  if (source.kind !== "file" || keepFile) {
    yield { source, plans };
    return;
  }
  for (let at = 0; at < plans.length; at += SNIPPETS_PER_DECODE) {
    const part = plans.slice(at, at + SNIPPETS_PER_DECODE);
    const { width, height } = part[0]!;
    const indices = [...new Set(part.flatMap((p) => p.frames))].sort((a, b) => a - b);
    const decoded = await decodeFrames(source.path, source.meta, indices, width, height);
    const position = new Map(indices.map((frame, i) => [frame, i]));
    const plane = width * height * 3;
    const pixels = new Float32Array(indices.length * plane);
    indices.forEach((frame, i) => {
      const bytes = decoded.get(frame)!;
      for (let k = 0; k < plane; k++) pixels[i * plane + k] = bytes[k]! / 255;
    });
    yield {
      source: { kind: "memory", meta: { ...source.meta, frames: indices.length, width, height }, pixels },
      plans: part.map((p) => ({ ...p, frames: p.frames.map((f) => position.get(f)!) })),
    };
  }
}

interface Cached {
  readonly features: Float32Array;
  readonly scores: Float32Array;
  readonly positions: number;
  readonly snippets: number;
}

function cacheFolder(context: ExtractionContext, video: FeatureVideoSource, length: number, step: number, scale: number): string | undefined {
  if (!context.cacheDir) return undefined;
  const { protocol } = context;
  const key = {
    version: 1,
    video: video.hash,
    spec: context.identity.specHash,
    weights: context.identity.weightsHash,
    layer: context.features.layer,
    length,
    step,
    scale,
    resize: protocol.test.resize,
    crop: [protocol.height, protocol.width],
  };
  return path.join(context.cacheDir, "features", createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 32));
}

function readCached(dir: string | undefined): Cached | undefined {
  if (!dir) return undefined;
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as { snippets: number };
    const features = readNpy(path.join(dir, "features.npy"));
    const scores = readNpy(path.join(dir, "scores.npy"));
    return { features: features.data, scores: scores.data, positions: features.shape[0]!, snippets: meta.snippets };
  } catch {
    return undefined;
  }
}

function writeCached(dir: string | undefined, value: Cached, features: number, classes: number): void {
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  writeNpy(path.join(dir, "features.npy"), { data: value.features, shape: [value.positions, features] });
  writeNpy(path.join(dir, "scores.npy"), { data: value.scores, shape: [value.positions, classes] });
  writeFileAtomic(path.join(dir, "meta.json"), JSON.stringify({ snippets: value.snippets }));
}

/**
 * Extracts every video's features into `out` and writes the manifest; videos that fail to load
 * go to `onFailure` and are left out. Returns the manifest.
 */
export async function extractFeatures(
  videos: readonly FeatureVideoSource[],
  settings: ExtractionSettings,
  out: string,
  context: ExtractionContext,
): Promise<FeatureManifest> {
  const { features: F, classes: K } = context.features;
  fs.mkdirSync(out, { recursive: true });
  const entries: Record<string, FeatureEntry> = {};
  let snippetsDone = 0;
  let lengthUsed: number | undefined;
  let stepUsed: number | undefined;
  for (let v = 0; v < videos.length; v++) {
    const video = videos[v]!;
    const meta = video.source.meta;
    const length = settings.length ?? snippetLength(context.protocol, meta);
    const step = settings.step ?? Math.max(1, Math.ceil(length / 2));
    lengthUsed ??= length;
    stepUsed ??= step;
    const folder = cacheFolder(context, video, length, step, settings.scale);
    let result = readCached(folder);
    if (!result) {
      const plans = snippetPlans(context.protocol, meta, length, step);
      let failure: Error | undefined;
      const rows = new Float32Array(plans.length * (F + K));
      let filled = 0;
      try {
        for await (const chunk of snippetChunks(video.source, plans, context.flows.length > 0)) {
          const item: VideoItem = { name: video.name, label: 0, source: chunk.source };
          const [part] = await videoOutputs(context.features.model, context.graph, [item], () => [...chunk.plans], {
            loader: context.loader,
            protocol: context.protocol,
            flows: context.flows,
            batch: context.batch,
            onFailure: (_item, error) => (failure = error),
          });
          if (!part || failure) break;
          rows.set(part, filled);
          filled += part.length;
        }
      } catch (error) {
        failure = error as Error;
      }
      if (failure || filled !== rows.length) {
        context.onFailure(video, failure ?? new Error(`${video.name}: no snippet could be read`));
        continue;
      }
      const n = plans.length;
      const featureRows = new Float32Array(n * F);
      const scoreRows = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        featureRows.set(rows.subarray(i * (F + K), i * (F + K) + F), i * F);
        scoreRows.set(rows.subarray(i * (F + K) + F, (i + 1) * (F + K)), i * K);
      }
      const positions = settings.scale > 0 ? settings.scale : n;
      result = {
        features: settings.scale > 0 ? resampleFeatures(featureRows, n, F, settings.scale) : featureRows,
        scores: settings.scale > 0 ? resampleFeatures(scoreRows, n, K, settings.scale) : scoreRows,
        positions,
        snippets: n,
      };
      writeCached(folder, result, F, K);
    }
    writeNpy(path.join(out, `${video.id}.npy`), { data: result.features, shape: [result.positions, F] });
    writeNpy(path.join(out, `${video.id}.scores.npy`), { data: result.scores, shape: [result.positions, K] });
    const duration = meta.frames / meta.fps;
    entries[video.id] = {
      features: `${video.id}.npy`,
      scores: `${video.id}.scores.npy`,
      source: video.name,
      duration,
      fps: meta.fps,
      frames: meta.frames,
      snippets: result.snippets,
      length,
      step,
      span: snippetSpan(result.snippets, length, step, meta.fps, duration),
    };
    snippetsDone += result.snippets;
    context.progress?.(v + 1, videos.length, snippetsDone);
  }
  const manifest: FeatureManifest = {
    version: 1,
    extractor: {
      ...context.identity,
      layer: context.features.layer,
      length: lengthUsed ?? 0,
      step: stepUsed ?? 0,
      scale: settings.scale,
      features: F,
      classNames: context.classNames,
    },
    videos: entries,
  };
  writeFileAtomic(path.join(out, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
