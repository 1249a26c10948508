/**
 * The untrimmed videos `vnet features` reads, and their annotations: `builtin:motion-untrimmed`
 * (rendered in memory, src/data/untrimmed.ts), a folder of video files (searched recursively,
 * with `annotations.json` beside them or the annotations named), or one video file. Unreadable
 * videos are reported (VN090-VN094) and skipped.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readAnnotations, type AnnotatedVideo, type Annotations } from "./annotations.js";
import { BUILTIN_FPS, type SplitName } from "./dataset.js";
import { VIDEO_EXTENSIONS } from "./folder.js";
import { DataError, issueOf, type DataIssue } from "./issues.js";
import { segmentsInSeconds, untrimmedClassNames, untrimmedVideos } from "./untrimmed.js";
import { probeVideo } from "./video/probe.js";
import type { FrameSource } from "./views.js";

export const BUILTIN_UNTRIMMED = "builtin:motion-untrimmed";

/** An untrimmed video: its id (file name without extension), what it is, its frames and content hash. */
export interface UntrimmedSource {
  readonly id: string;
  readonly name: string;
  readonly source: FrameSource;
  readonly hash: string;
}

export interface UntrimmedSet {
  readonly name: string;
  readonly videos: readonly UntrimmedSource[];
  /** The videos' annotations with their durations, when there are any. */
  readonly annotations?: readonly (AnnotatedVideo & { readonly duration: number })[];
  readonly classNames?: readonly string[];
  readonly issues: readonly DataIssue[];
}

export interface UntrimmedOptions {
  /** An annotation file or THUMOS folder (default: `annotations.json` in the folder, when there is one). */
  readonly annotations?: string;
  readonly cacheDir?: string;
  /** builtin:motion-untrimmed: classes, frame size, seed, videos per split. */
  readonly classes?: number;
  readonly size?: number;
  readonly seed?: number;
  readonly trainVideos?: number;
  readonly valVideos?: number;
}

/** The builtin untrimmed videos: training and validation videos with their actions. */
function builtinSet(options: UntrimmedOptions): UntrimmedSet {
  const classNames = untrimmedClassNames(options.classes ?? 5);
  const size = options.size ?? 32;
  const videos: UntrimmedSource[] = [];
  const annotations: (AnnotatedVideo & { duration: number })[] = [];
  for (const split of ["train", "val"] as const) {
    const count = split === "train" ? (options.trainVideos ?? 32) : (options.valVideos ?? 16);
    let i = 0;
    for (const video of untrimmedVideos({ classes: classNames.length, size, seed: options.seed ?? 0 }, split, count)) {
      const id = `${split}_${String(i++).padStart(4, "0")}`;
      const meta = { frames: video.length, fps: BUILTIN_FPS, width: size, height: size };
      const hash = createHash("sha256")
        .update(new Uint8Array(video.pixels.buffer, video.pixels.byteOffset, video.pixels.byteLength))
        .digest("hex");
      videos.push({ id, name: `${BUILTIN_UNTRIMMED}/${id}`, source: { kind: "memory", meta, pixels: video.pixels }, hash });
      annotations.push({ id, duration: video.length / BUILTIN_FPS, split: split as SplitName, segments: segmentsInSeconds(video, classNames) });
    }
  }
  return { name: BUILTIN_UNTRIMMED, videos, annotations, classNames, issues: [] };
}

function videoFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (VIDEO_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** Videos of a folder or one file, probed, with the annotations given or found beside them. */
async function fileSet(location: string, options: UntrimmedOptions): Promise<UntrimmedSet> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(location);
  } catch {
    throw new DataError("VN090", location, "no such video file or folder");
  }
  const files = stat.isDirectory() ? videoFiles(location) : [location];
  const issues: DataIssue[] = [];
  const videos: UntrimmedSource[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const id = path.basename(file, path.extname(file));
    if (seen.has(id)) {
      issues.push({ code: "VN090", path: file, message: `another video, ${seen.get(id)}, has the same name ${id}: features are named by video` });
      continue;
    }
    try {
      const meta = await probeVideo(file, options.cacheDir);
      seen.set(id, file);
      videos.push({ id, name: file, source: { kind: "file", path: file, meta, hash: meta.hash }, hash: meta.hash });
    } catch (error) {
      issues.push(issueOf(error));
    }
  }
  const annotationFile =
    options.annotations ?? (stat.isDirectory() && fs.existsSync(path.join(location, "annotations.json")) ? path.join(location, "annotations.json") : undefined);
  if (!annotationFile) return { name: location, videos, issues };
  const read: Annotations = readAnnotations(annotationFile);
  issues.push(...read.issues);
  const durations = new Map(videos.map((v) => [v.id, v.source.meta.frames / v.source.meta.fps]));
  const annotations = [...read.videos.values()].flatMap((a) => {
    const duration = a.duration ?? durations.get(a.id);
    return duration === undefined ? [] : [{ ...a, duration }];
  });
  return { name: location, videos, annotations, classNames: read.classNames, issues };
}

/** The untrimmed videos `--data` names (see the file comment). */
export async function openUntrimmed(location: string, options: UntrimmedOptions = {}): Promise<UntrimmedSet> {
  return location === BUILTIN_UNTRIMMED ? builtinSet(options) : fileSet(location, options);
}
