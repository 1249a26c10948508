/**
 * Snippet features of untrimmed videos, as `vnet features` writes them and localizers read them:
 * a folder with one `<video>.npy` [T, F] per video (the features of its sliding-window snippets,
 * resampled to T positions), `<video>.scores.npy` [T, K] (the extractor's class probabilities at
 * the same positions, which label detections), the annotations (`annotations.json`,
 * ActivityNet style) and `features.json`, the manifest: which extractor made them (spec, its
 * hash, weights, layer, snippet length and step, scale) and, per video, its duration and the span
 * of seconds the T positions cover.
 *
 * Position u in [0, 1] of a video's features is snippet u x (n - 1), whose centre is
 * `span.start + u x (span.end - span.start)` seconds: the span runs from the first snippet's
 * centre to the last one's (MMAction2 maps [0, 1] onto the frames its features cover; the span
 * says that exactly).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readNpy } from "../runtime/npy.js";
import type { Segment } from "../runtime/localization/segments.js";
import { readAnnotations, type Annotations, type LabelledSegment } from "./annotations.js";
import type { SplitName } from "./dataset.js";
import { DataError, issueOf, type DataIssue } from "./issues.js";

export const MANIFEST = "features.json";
export const ANNOTATIONS = "annotations.json";

/** How snippets were cut and which layer's output was kept. */
export interface Extractor {
  /** The classification spec (as given) and the sha256 of its source files. */
  readonly spec: string;
  readonly network: string;
  readonly specHash: string;
  /** The checkpoint directory and the sha256 of its weights. */
  readonly weights: string;
  readonly weightsHash: string;
  readonly layer: string;
  /** Raw frames a snippet covers, and raw frames between snippet starts. */
  readonly length: number;
  readonly step: number;
  /** Positions features are resampled to (0: the snippets as they are). */
  readonly scale: number;
  readonly features: number;
  readonly classNames: readonly string[];
}

export interface FeatureEntry {
  /** Feature and score files, relative to the folder. */
  readonly features: string;
  readonly scores: string;
  /** The video file (or builtin name) the features come from. */
  readonly source: string;
  readonly duration: number;
  readonly fps: number;
  readonly frames: number;
  readonly snippets: number;
  /** This video's snippet length and step in raw frames (the extractor's, unless the frame rate made them differ). */
  readonly length: number;
  readonly step: number;
  /** Seconds that positions 0 and 1 stand for. */
  readonly span: Segment;
}

export interface FeatureManifest {
  readonly version: 1;
  readonly extractor: Extractor;
  readonly videos: Readonly<Record<string, FeatureEntry>>;
}

/** Reads a features folder's manifest; a missing or damaged one is VN124. */
export function readManifest(dir: string): FeatureManifest {
  const file = path.join(dir, MANIFEST);
  let manifest: FeatureManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, "utf8")) as FeatureManifest;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new DataError(
      "VN124",
      dir,
      missing
        ? `not a features folder: it has no ${MANIFEST} (write one with \`vnet features <spec> --weights <run> --data <videos> -o ${dir}\`)`
        : `${MANIFEST} is damaged: ${(error as Error).message}`,
    );
  }
  if (manifest?.version !== 1 || typeof manifest.extractor !== "object" || typeof manifest.videos !== "object")
    throw new DataError("VN124", file, `${MANIFEST} is not a vnet features manifest (version 1)`);
  return manifest;
}

/** One video's features [T, F] and scores [T, K]; unreadable or misshapen files are VN122. */
export function readFeatures(
  dir: string,
  id: string,
  entry: FeatureEntry,
  extractor: Extractor,
): { features: Float32Array; scores: Float32Array; positions: number } {
  const load = (file: string, width: number) => {
    const full = path.join(dir, file);
    let tensor;
    try {
      tensor = readNpy(full);
    } catch (error) {
      throw new DataError("VN122", full, `cannot read ${id}'s features: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (tensor.shape.length !== 2 || tensor.shape[1] !== width)
      throw new DataError("VN122", full, `${id}'s array is [${tensor.shape.join(", ")}], expected [T, ${width}]`);
    return tensor;
  };
  const features = load(entry.features, extractor.features);
  const scores = load(entry.scores, extractor.classNames.length);
  if (features.shape[0] !== scores.shape[0])
    throw new DataError("VN122", path.join(dir, entry.scores), `${id} has ${features.shape[0]} feature positions but ${scores.shape[0]} score positions`);
  return { features: features.data, scores: scores.data, positions: features.shape[0]! };
}

/**
 * Resamples n snippet vectors [n, F] to `scale` positions as BMN's feature pipeline does
 * (MMAction2 `tools/data/activitynet/activitynet_feature_postprocessing.py` `pool_feature`):
 * linear interpolation over the snippet index, `bins` points per position from 1e-4 to
 * n - 1 - 1e-4, averaged. One snippet is repeated.
 */
export function resampleFeatures(data: Float32Array, n: number, width: number, scale: number, bins = 3): Float32Array {
  const out = new Float32Array(scale * width);
  if (n === 1) {
    for (let k = 0; k < scale; k++) out.set(data.subarray(0, width), k * width);
    return out;
  }
  const eps = 1e-4;
  const start = eps;
  const end = n - 1 - eps;
  const anchor = (end - start) / scale;
  let pointer = start;
  const sum = new Float64Array(width);
  for (let k = 0; k < scale; k++) {
    sum.fill(0);
    for (let i = 0; i < bins; i++) {
      const x = pointer + (i / bins) * anchor;
      // scipy's interp1d (linear): the interval [lo, lo + 1] with lo = searchsorted(x) - 1, clipped.
      const hi = Math.min(Math.max(Math.ceil(x), 1), n - 1);
      const lo = hi - 1;
      for (let f = 0; f < width; f++) {
        const a = data[lo * width + f]!;
        const b = data[hi * width + f]!;
        // (y_hi - y_lo) in float32 as NumPy subtracts float32 features, the rest in float64.
        sum[f] += (Math.fround(b - a) / 1) * (x - lo) + a;
      }
    }
    for (let f = 0; f < width; f++) out[k * width + f] = sum[f]! / bins;
    pointer += anchor;
  }
  return out;
}

/**
 * The seconds [first snippet's centre, last snippet's centre] of n snippets of `length` raw
 * frames `step` apart: what positions 0 and 1 stand for (the whole video for one snippet).
 */
export function snippetSpan(n: number, length: number, step: number, fps: number, duration: number): Segment {
  if (n <= 1) return { start: 0, end: duration };
  return { start: length / 2 / fps, end: ((n - 1) * step + length / 2) / fps };
}

/** One video of a localization dataset: its features, the extractor's scores, and its annotated actions. */
export interface FeatureVideo {
  readonly id: string;
  /** [positions, features], row-major. */
  readonly features: Float32Array;
  /** [positions, classes]: the extractor's class probabilities. */
  readonly scores: Float32Array;
  readonly positions: number;
  readonly duration: number;
  readonly span: Segment;
  /** Actions in seconds (empty for an unannotated video). */
  readonly segments: readonly LabelledSegment[];
}

export interface FeatureSplits {
  readonly name: string;
  readonly dir: string;
  readonly manifest: FeatureManifest;
  readonly annotations: Annotations;
  /** The action classes of the annotations. */
  readonly classNames: readonly string[];
  readonly train: readonly FeatureVideo[];
  readonly val: readonly FeatureVideo[];
  readonly test: readonly FeatureVideo[];
  readonly issues: readonly DataIssue[];
}

/**
 * A features folder with its annotations (the folder's annotations.json, or `annotations`: an
 * ActivityNet-style JSON or a folder of THUMOS-style lists) as train / val / test splits of the
 * annotated videos that have features; annotated videos without features are reported (VN122).
 */
export function openFeatureSplits(dir: string, options: { annotations?: string } = {}): FeatureSplits {
  const manifest = readManifest(dir);
  const annotationPath = options.annotations ?? path.join(dir, ANNOTATIONS);
  if (!options.annotations && !fs.existsSync(annotationPath))
    throw new DataError("VN120", dir, `the features folder has no ${ANNOTATIONS}; name the annotations with --annotations <file.json | thumos-folder>`);
  const annotations = readAnnotations(annotationPath);
  const issues: DataIssue[] = [...annotations.issues];
  const splits: Record<SplitName, FeatureVideo[]> = { train: [], val: [], test: [] };
  for (const video of annotations.videos.values()) {
    const entry = manifest.videos[video.id];
    if (!entry) {
      issues.push({ code: "VN122", path: dir, message: `annotated video ${video.id} has no features here` });
      continue;
    }
    try {
      const { features, scores, positions } = readFeatures(dir, video.id, entry, manifest.extractor);
      splits[video.split].push({
        id: video.id,
        features,
        scores,
        positions,
        duration: video.duration ?? entry.duration,
        span: entry.span,
        segments: video.segments,
      });
    } catch (error) {
      issues.push(issueOf(error));
    }
  }
  return { name: dir, dir, manifest, annotations, classNames: annotations.classNames, ...splits, issues };
}
