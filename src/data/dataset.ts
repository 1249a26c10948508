/**
 * The dataset abstraction training and evaluation read: labelled videos, each with a frame
 * source (a file on disk, or frames in memory), in train / val / test splits, with the class
 * names and the issues met while opening it. The builtin in-memory datasets become memory
 * sources here, so they go through the same sampler and view loader as video folders.
 */
import * as os from "node:os";
import * as path from "node:path";
import type { SamplingProtocol } from "../semantics/protocol.js";
import type { DataIssue } from "./issues.js";
import type { VideoDataset } from "./motion.js";
import type { FrameSource } from "./views.js";

/** The frame rate builtin clips and `vnet data synth` videos play at. */
export const BUILTIN_FPS = 25;

export interface VideoItem {
  /** The file path, or `builtin:motion/train/12`. */
  readonly name: string;
  readonly label: number;
  readonly source: FrameSource;
}

export interface VideoSplits {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly train: readonly VideoItem[];
  readonly val: readonly VideoItem[];
  readonly test: readonly VideoItem[];
  /** Inputs skipped while opening the dataset (bad files, unknown labels, ...). */
  readonly issues: readonly DataIssue[];
}

export type SplitName = "train" | "val" | "test";

/** Frames of the built-in videos made for a 2D network, which samples one frame of each. */
export const FRAMES_FOR_IMAGES = 8;

/** The video size a built-in dataset is made at for a protocol: its clip's, videos of FRAMES_FOR_IMAGES frames for a 2D network. */
export function builtinClipShape(protocol: SamplingProtocol): { frames: number; height: number; width: number } {
  return { frames: protocol.frames === 1 ? FRAMES_FOR_IMAGES : protocol.frames, height: protocol.height, width: protocol.width };
}

/** A builtin in-memory dataset as splits of memory sources (clips keep their data, no copy). */
export function memorySplits(data: VideoDataset): VideoSplits {
  const plane = data.height * data.width * data.channels;
  const meta = { frames: data.frames, fps: BUILTIN_FPS, width: data.width, height: data.height };
  const items = (split: "train" | "val") =>
    Array.from(
      { length: data[split].count },
      (_, i): VideoItem => ({
        name: `${data.name}/${split}/${i}`,
        label: data[split].labels[i]!,
        source: { kind: "memory", meta, pixels: data[split].clips.subarray(i * data.frames * plane, (i + 1) * data.frames * plane) },
      }),
    );
  return { name: data.name, classNames: data.classNames, train: items("train"), val: items("val"), test: [], issues: [] };
}

/** Where probes and optical flow are cached: $VNET_CACHE, else $XDG_CACHE_HOME/vnet, else ~/.cache/vnet. */
export function defaultCacheDir(): string {
  if (process.env.VNET_CACHE) return process.env.VNET_CACHE;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "vnet");
}
