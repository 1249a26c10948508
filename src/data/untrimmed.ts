/**
 * `builtin:motion-untrimmed`: long synthetic videos for temporal action localization. Each video
 * is one scene of builtin:motion (src/data/motion.ts: a textured object on a textured
 * background) in which the object rests, then performs one to three actions (a motion class for
 * 16 to 40 frames) at random positions, resting at least 8 frames between them. The object keeps
 * where an action left it, so only the motion tells an action from the background. Labels are
 * the translations and rotations (the first six motion classes): expansion would not stay in
 * the frame for a segment's length.
 *
 * Deterministic from the seed (separate streams per split), like builtin:motion.
 */
import { BUILTIN_FPS } from "./dataset.js";
import { drawScene, MOTION_CLASSES, moved, renderScene, seededRandom, type Pose } from "./motion.js";

/** Classes an untrimmed video's actions are drawn from. */
export const UNTRIMMED_CLASSES = MOTION_CLASSES.slice(0, 6);

export interface UntrimmedOptions {
  /** Number of action classes (the first of UNTRIMMED_CLASSES; default 5, as builtin:motion's specs). */
  readonly classes?: number;
  readonly size?: number;
  readonly seed?: number;
  /** Frames per video: at least this many (default 96), at most `maxFrames` (default 160) unless the actions need more. */
  readonly minFrames?: number;
  readonly maxFrames?: number;
}

/** An action in frames [start, end) of a video. */
export interface FrameSegment {
  readonly start: number;
  readonly end: number;
  readonly label: number;
}

export interface UntrimmedVideo {
  readonly length: number;
  /** Frames [length, size, size, 3] in [0, 1]. */
  readonly pixels: Float32Array;
  readonly segments: readonly FrameSegment[];
}

const SEGMENT_FRAMES = [16, 40] as const;
const MIN_GAP = 8;
const SPLIT_SALT = { train: 0x27d4eb2f, val: 0x165667b1 } as const;

/** The class names of the untrimmed dataset with `classes` classes; throws for a bad count. */
export function untrimmedClassNames(classes = 5): readonly string[] {
  if (!Number.isInteger(classes) || classes < 2 || classes > UNTRIMMED_CLASSES.length)
    throw new Error(`builtin:motion-untrimmed has 2 to ${UNTRIMMED_CLASSES.length} classes, not ${classes}`);
  return UNTRIMMED_CLASSES.slice(0, classes);
}

function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** Where the actions go: 1-3 segments, background before, between (>= MIN_GAP) and after. */
function layout(random: () => number, classes: number, minFrames: number, maxFrames: number): { length: number; segments: FrameSegment[] } {
  const count = randomInt(random, 1, 3);
  const lengths = Array.from({ length: count }, () => randomInt(random, SEGMENT_FRAMES[0], SEGMENT_FRAMES[1]));
  const labels = Array.from({ length: count }, () => Math.floor(random() * classes));
  const needed = lengths.reduce((a, b) => a + b, 0) + (count + 1) * MIN_GAP;
  const length = Math.max(needed, randomInt(random, minFrames, Math.max(minFrames, maxFrames)));
  // The spare frames, split at random among the count + 1 gaps.
  const weights = Array.from({ length: count + 1 }, () => -Math.log(1 - random()));
  const total = weights.reduce((a, b) => a + b, 0);
  const spare = length - needed;
  const extra = weights.map((w) => Math.floor((spare * w) / total));
  extra[count]! += spare - extra.reduce((a, b) => a + b, 0);
  const segments: FrameSegment[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    at += MIN_GAP + extra[i]!;
    segments.push({ start: at, end: at + lengths[i]!, label: labels[i]! });
    at += lengths[i]!;
  }
  return { length, segments };
}

/** `count` untrimmed videos of one split, rendered one at a time. */
export function* untrimmedVideos(options: UntrimmedOptions, split: "train" | "val", count: number): Generator<UntrimmedVideo> {
  const classes = untrimmedClassNames(options.classes).length;
  const size = options.size ?? 32;
  const random = seededRandom(((options.seed ?? 0) ^ SPLIT_SALT[split]) >>> 0);
  for (let i = 0; i < count; i++) {
    const { length, segments } = layout(random, classes, options.minFrames ?? 96, options.maxFrames ?? 160);
    const { scene } = drawScene(0, "motion", size, random);
    // The pose at each frame: at rest, moving through each action, resting where it ended.
    const poses: Pose[] = [];
    let pose = scene.rest;
    let next = 0;
    for (let t = 0; t < length; t++) {
      const segment = segments[next];
      if (segment && t >= segment.start && t < segment.end) poses.push(moved(scene, segment.label, pose, t - segment.start));
      else poses.push(pose);
      if (segment && t === segment.end - 1) {
        // It rests where the action's last frame shows it: the motion is within [start, end).
        pose = moved(scene, segment.label, pose, segment.end - segment.start - 1);
        next++;
      }
    }
    const pixels = new Float32Array(length * size * size * 3);
    renderScene(pixels, scene, length, size, (t) => poses[t]!, random);
    yield { length, pixels, segments };
  }
}

/** One video's actions in seconds at the builtin frame rate. */
export function segmentsInSeconds(video: UntrimmedVideo, classNames: readonly string[], fps = BUILTIN_FPS): { start: number; end: number; label: string }[] {
  return video.segments.map((s) => ({ start: s.start / fps, end: s.end / fps, label: classNames[s.label]! }));
}
