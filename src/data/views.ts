/**
 * From a sampling plan to network-ready views: reads the plan's frames from a frame source (a
 * video file through ffmpeg, or frames in memory such as the builtin datasets), resized as
 * planned, cuts each crop (flipping where planned) into clips [V, T, H, W, C] with values in
 * [0, 1], and computes each optical-flow stream's fields for the same crops. The one place where
 * train, eval and predict turn plans into pixels; worker threads run it too.
 */
import type { SamplingProtocol } from "../semantics/protocol.js";
import { flowCacheDir, cachedFlow, farneback, flowShape, flowValue, opencv, type FlowStream } from "./flow.js";
import type { DetectionKeyframe } from "./motion-boxes.js";
import { testPlans, trainSpace, viewBox, type ClipPlan, type VideoMeta } from "./sampling.js";
import { decodeFrames } from "./video/decode.js";
import { probeVideo, type ProbedVideo } from "./video/probe.js";

/** Where a video's frames come from. */
export type FrameSource =
  | { readonly kind: "file"; readonly path: string; readonly meta: VideoMeta; readonly hash: string }
  /** Frames [n, height, width, 3] with values in [0, 1]. */
  | { readonly kind: "memory"; readonly meta: VideoMeta; readonly pixels: Float32Array };

/** The input clip geometry views are cut to. */
export type ClipGeometry = Pick<SamplingProtocol, "frames" | "height" | "width" | "channels">;

export interface LoadedViews {
  readonly views: number;
  /** [views, T, H, W, C], values in [0, 1]. */
  readonly clips: Float32Array;
  /** One per flow stream: [views, H, W, 2L] stacked, else [views, L, H, W, 2]; values in [-1, 1]. */
  readonly flows: Float32Array[];
}

/** Frames of a source at a size, as RGB in [0, 1] by raw index. */
async function readFrames(source: FrameSource, indices: readonly number[], width: number, height: number): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  if (source.kind === "file") {
    for (const [index, bytes] of await decodeFrames(source.path, source.meta, indices, width, height)) {
      const frame = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) frame[i] = bytes[i]! / 255;
      out.set(index, frame);
    }
    return out;
  }
  const { meta, pixels } = source;
  const plane = meta.width * meta.height * 3;
  const same = width === meta.width && height === meta.height;
  const cv = same ? undefined : (await opencv()).cv;
  for (const index of new Set(indices)) {
    const frame = pixels.subarray(index * plane, (index + 1) * plane);
    if (!cv) {
      out.set(index, frame);
      continue;
    }
    const src = cv.matFromArray(meta.height, meta.width, cv.CV_32FC3, frame);
    const dst = new cv.Mat();
    try {
      cv.resize(src, dst, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
      out.set(index, Float32Array.from(dst.data32F));
    } finally {
      src.delete();
      dst.delete();
    }
  }
  return out;
}

/** Loads the views of one clip plan (one per crop) and its flow streams. */
export async function loadViews(
  source: FrameSource,
  plan: ClipPlan,
  geometry: ClipGeometry,
  flows: readonly FlowStream[],
  cacheDir?: string,
): Promise<LoadedViews> {
  const { frames: T, height: H, width: W, channels: C } = geometry;
  if (C !== 3) throw new Error(`video clips have 3 channels, not ${C}`);
  const frames = await readFrames(source, plan.frames, plan.width, plan.height);
  const views = plan.crops.length;
  const rowIn = plan.width * 3;
  const clips = new Float32Array(views * T * H * W * 3);
  plan.crops.forEach((crop, v) => {
    for (let t = 0; t < T; t++) {
      const frame = frames.get(plan.frames[t]!)!;
      const base = (v * T + t) * H * W * 3;
      for (let y = 0; y < H; y++) {
        const rowStart = (crop.y + y) * rowIn + crop.x * 3;
        const out = base + y * W * 3;
        if (!crop.flip) clips.set(frame.subarray(rowStart, rowStart + W * 3), out);
        else for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) clips[out + x * 3 + c] = frame[rowStart + (W - 1 - x) * 3 + c]!;
      }
    }
  });
  const flowOut: Float32Array[] = [];
  for (const stream of flows) {
    const { cv } = await opencv();
    const pairs = stream.positions.length - 1;
    const dir = cacheDir && source.kind === "file" ? flowCacheDir(cacheDir, source.hash, stream.params, plan.width, plan.height) : undefined;
    const fields = Array.from({ length: pairs }, (_, k) => {
      const a = plan.frames[stream.positions[k]!]!;
      const b = plan.frames[stream.positions[k + 1]!]!;
      return cachedFlow(dir, a, b, plan.width * plan.height * 2, () => farneback(cv, frames.get(a)!, frames.get(b)!, plan.width, plan.height, stream.params));
    });
    const out = new Float32Array(views * H * W * 2 * pairs);
    plan.crops.forEach((crop, v) => {
      for (let k = 0; k < pairs; k++) {
        const field = fields[k]!;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const from = ((crop.y + y) * plan.width + crop.x + (crop.flip ? W - 1 - x : x)) * 2;
            const dx = flowValue(field[from]!);
            const dy = flowValue(field[from + 1]!);
            // Stacked: [H, W, 2L] with (x, y) of pair k at channels 2k, 2k + 1; else [L, H, W, 2].
            const at = stream.stack ? ((v * H + y) * W + x) * 2 * pairs + 2 * k : (((v * pairs + k) * H + y) * W + x) * 2;
            out[at] = crop.flip ? -dx : dx;
            out[at + 1] = dy;
          }
        }
      }
    });
    flowOut.push(out);
  }
  return { views, clips, flows: flowOut };
}

/** Float32 arrays end to end. */
export function concatFloat32(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) (out.set(a, offset), (offset += a.length));
  return out;
}

/** Several loads' views as one: clips and each flow stream concatenated. */
export function mergeViews(parts: readonly LoadedViews[]): LoadedViews {
  return {
    views: parts.reduce((n, p) => n + p.views, 0),
    clips: concatFloat32(parts.map((p) => p.clips)),
    flows: (parts[0]?.flows ?? []).map((_, i) => concatFloat32(parts.map((p) => p.flows[i]!))),
  };
}

export interface TestViews extends LoadedViews {
  /** Shape of one view's clip [T, H, W, C] and of each flow stream's input. */
  readonly clipShape: readonly number[];
  readonly flowShapes: readonly (readonly number[])[];
}

export interface TestViewOptions {
  /** Flow streams to compute (`flowStreams(graph)`); none by default. */
  readonly flows?: readonly FlowStream[];
  /** Flow cache directory (video files only). */
  readonly cacheDir?: string;
}

/** A video file as a frame source, probed (and the probe cached). Throws a DataError for an unreadable video. */
export async function fileSource(videoPath: string, cacheDir?: string): Promise<FrameSource & { readonly kind: "file"; readonly meta: ProbedVideo }> {
  const video = await probeVideo(videoPath, cacheDir);
  return { kind: "file", path: videoPath, meta: video, hash: video.hash };
}

/** How far outside [0, 1] a tensor's pixels may stray (float rounding of a resize or colour conversion) before they are refused. */
const PIXEL_SLACK = 1e-3;

/**
 * Refuses a user's video tensor (a `.npy` file) whose values are not pixels in [0, 1]: pixels of
 * 0-255 saved as floats would be read as very bright frames, and a model would still print scores.
 * Checked where the tensor comes in, not in `tensorSource`, which training keyframes also pass through every step.
 */
export function checkPixelRange(pixels: Float32Array): void {
  let low = Infinity;
  let high = -Infinity;
  for (const value of pixels) {
    if (Number.isNaN(value)) throw new Error("the video tensor holds NaN values; a video tensor holds pixels in [0, 1]");
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (low < -PIXEL_SLACK || high > 1 + PIXEL_SLACK)
    throw new Error(
      `its values range over [${low.toPrecision(4)}, ${high.toPrecision(4)}]; a video tensor holds pixels in [0, 1] (divide 0-255 pixels by 255, or save them as uint8)`,
    );
}

/**
 * Frames in memory as a frame source: a tensor [T, H, W, 3] with values in [0, 1] (a `.npy`
 * video, checked by `checkPixelRange`; a built-in clip; a decoded training keyframe), played at
 * `fps` (a tensor has no frame rate of its own).
 */
export function tensorSource(pixels: Float32Array, shape: readonly number[], fps: number): FrameSource {
  if (shape.length !== 4 || shape[3] !== 3) throw new Error(`a video tensor is [T, H, W, 3], got [${shape.join(", ")}]`);
  const [frames, height, width] = shape as [number, number, number, number];
  return { kind: "memory", meta: { frames, fps, width, height }, pixels };
}

/**
 * Every test view of a video with the protocol (clips x crops, in clip-major order), the same
 * frames and crops whatever the source: what `vnet predict` feeds a model, and what `vnet eval`
 * loads per video (through the loader, plan by plan).
 */
export async function testViews(source: FrameSource, protocol: SamplingProtocol, options: TestViewOptions = {}): Promise<TestViews> {
  const flows = options.flows ?? [];
  const parts: LoadedViews[] = [];
  for (const plan of testPlans(protocol, source.meta)) parts.push(await loadViews(source, plan, protocol, flows, options.cacheDir));
  const { frames, height, width, channels } = protocol;
  return { ...mergeViews(parts), clipShape: [frames, height, width, channels], flowShapes: flows.map((s) => flowShape(s, height, width)) };
}

/**
 * A training keyframe as its detector reads it this step (src/data/sampling.ts, Keyframes): one
 * `trainSpace` view of its clip (scale from `scale` drawn as PySlowFast's AVA loader draws it,
 * crop, flip), the same for every frame, and its boxes and proposals carried into the view by
 * `viewBox`. A keyframe is returned as it is where nothing is augmented (no `scale`, no `flip`).
 */
export async function trainKeyframeView(protocol: SamplingProtocol, keyframe: DetectionKeyframe, random: () => number): Promise<DetectionKeyframe> {
  if (!protocol.train.scale && !protocol.train.flip) return keyframe;
  const size = keyframe.size ?? { width: protocol.width, height: protocol.height };
  const plan = { frames: Array.from({ length: protocol.frames }, (_, t) => t), ...trainSpace(protocol, size, random, "inverse") };
  const source = tensorSource(keyframe.clip, [protocol.frames, size.height, size.width, 3], 1);
  const { clips } = await loadViews(source, plan, { ...protocol, channels: 3 }, []);
  const [crop] = plan.crops;
  const { size: _, ...rest } = keyframe;
  return {
    ...rest,
    clip: clips,
    boxes: keyframe.boxes.map((b) => viewBox(b, protocol, plan, crop)),
    proposals: keyframe.proposals.map((b) => viewBox(b, protocol, plan, crop)),
  };
}
