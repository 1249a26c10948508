/**
 * A network's sampling protocol: its raw input clip and its `sampling` section resolved with the
 * documented defaults, as plain data. It is the one description of how clips are drawn for
 * training and cut into test views (clips x crops, averaged), whatever the clip source (a video
 * file, a tensor, a built-in clip): the IR carries it, exported models store it in their
 * metadata, and the sampler (`src/data/sampling.ts`) turns it into frame indices and crops.
 *
 * Defaults. A clip of T frames is taken `stride` raw frames apart (or resampled to `fps`), else
 * consecutively; testing uses the test section's timing, else training's. The test resize (short
 * side before cropping) defaults to the smallest training scale, else to the input's short side.
 * A network without a `sampling` section is sampled plainly: no flip, centre crops, one clip. A 2D
 * network (an `image(...)` input) takes clips of one frame.
 */
import { isBoxesInput } from "./rows.js";
import type { CheckedNetwork } from "./network.js";

export type CropMode = "center" | "three" | "ten";
export type ViewAverage = "logits" | "softmax" | "max";

/** What the sampler needs of a network: its input clip and its `sampling` section, with defaults. */
export interface SamplingProtocol {
  /** The raw input clip [T, H, W, C] (T = 1 for an image input). */
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly train: {
    readonly stride?: number;
    readonly fps?: number;
    readonly choice: "random" | "uniform" | "dense";
    /** TSN segments: the clip is this many pieces, one from each equal segment of the video. */
    readonly segments?: number;
    readonly jitter: number;
    /** Short-side range [min, max] for scale jitter. */
    readonly scale?: readonly [number, number];
    readonly cropMode: "random" | "center";
    readonly flip: boolean;
  };
  readonly test: {
    readonly clips: number;
    /** Segments at test time (the training ones unless the test section sets its own). */
    readonly segments?: number;
    readonly crops: CropMode;
    readonly average: ViewAverage;
    readonly stride?: number;
    readonly fps?: number;
    /** Short side before cropping. */
    readonly resize: number;
  };
  readonly shortVideos: "loop" | "repeat_last";
}

export type Section = { readonly [key: string]: unknown };

/** The raw (not stream) inputs of a network that the data pipeline fills: its clips, not a detector's `boxes()`. */
export function rawInputs(network: CheckedNetwork): CheckedNetwork["inputs"] {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  return network.inputs.filter((i) => i.kind === "input" && !isBoxesInput(byId.get(i.layer)!));
}

/**
 * The sampling protocol of a network, or undefined when it has no single clip or image input
 * for the data pipeline to fill.
 */
export function protocolOf(network: CheckedNetwork): SamplingProtocol | undefined {
  const raw = rawInputs(network);
  if (raw.length !== 1 || (raw[0]!.shape.length !== 4 && raw[0]!.shape.length !== 3)) return undefined;
  return protocolFromSection(raw[0]!.shape, network.sections.sampling as Section | undefined);
}

/**
 * The sampling protocol from a raw input shape ([T, H, W, C], or [H, W, C] for a 2D network) and
 * a `sampling` section as plain data (how models exported before the protocol itself was stored
 * are read).
 */
export function protocolFromSection(shape: readonly number[], section: Section | undefined): SamplingProtocol {
  const [frames, height, width, channels] = (shape.length === 3 ? [1, ...shape] : shape) as [number, number, number, number];
  const train = (section?.train ?? {}) as Section;
  const test = (section?.test ?? {}) as Section;
  const scale = train.scale as readonly number[] | undefined;
  const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
  return {
    frames,
    height,
    width,
    channels,
    train: {
      ...(num(train.stride) !== undefined ? { stride: num(train.stride)! } : {}),
      ...(num(train.fps) !== undefined ? { fps: num(train.fps)! } : {}),
      choice: (train.choice as SamplingProtocol["train"]["choice"] | undefined) ?? "random",
      ...(num(train.segments) !== undefined ? { segments: num(train.segments)! } : {}),
      jitter: num(train.jitter) ?? 0,
      ...(scale ? { scale: [scale[0]!, scale[1]!] as const } : {}),
      // Without a section nothing is augmented (a flip would also swap left and right motion).
      cropMode: section ? ((train.crop_mode as "random" | "center" | undefined) ?? "random") : "center",
      flip: section ? ((train.flip as boolean | undefined) ?? true) : false,
    },
    test: {
      clips: num(test.clips) ?? 1,
      ...((num(test.segments) ?? num(train.segments)) !== undefined ? { segments: (num(test.segments) ?? num(train.segments))! } : {}),
      crops: (test.crops as CropMode | undefined) ?? "center",
      average: (test.average as ViewAverage | undefined) ?? "softmax",
      ...(num(test.stride) !== undefined ? { stride: num(test.stride)! } : {}),
      ...(num(test.fps) !== undefined ? { fps: num(test.fps)! } : {}),
      resize: num(test.resize) ?? scale?.[0] ?? Math.min(height, width),
    },
    shortVideos: (section?.short_videos as "loop" | "repeat_last" | undefined) ?? "loop",
  };
}

/** Spatial views per clip for a crop mode. */
export function cropCount(crops: CropMode): number {
  return crops === "ten" ? 10 : crops === "three" ? 3 : 1;
}

/** Views per test video: clips x crops. */
export function viewsPerVideo(protocol: SamplingProtocol): number {
  return protocol.test.clips * cropCount(protocol.test.crops);
}

/** The timing of test clips: the test section's stride or fps, else training's. */
export function testTiming(protocol: SamplingProtocol): { readonly stride?: number; readonly fps?: number } {
  const { test, train } = protocol;
  return test.stride !== undefined || test.fps !== undefined ? test : train;
}
