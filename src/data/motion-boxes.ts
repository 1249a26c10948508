/**
 * `builtin:motion-boxes`: synthetic keyframe clips for spatio-temporal detection. Each clip shows
 * two or three objects of builtin:motion's kind (src/data/motion.ts's scenes and renderer), each
 * moving in its own way (one of the motion classes), in its own part of the frame; the keyframe is
 * the middle frame, and each object's box there is labelled with its motion. Since the objects
 * of one clip move differently, only a model that looks at each box's own features can tell which
 * box does what: a clip-level model gives every box the same scores.
 *
 * Person proposals are the ground-truth boxes jittered by a few pixels, with high scores, plus a
 * low-scoring box on the background in some clips, which the proposal score threshold removes (as
 * AVA's detector boxes: ground truth for the metric, proposals for testing).
 */
import { drawScene, MOTION_CLASSES, moved, renderObjects, seededRandom, type SceneObject } from "./motion.js";

/** A box in normalised coordinates [0, 1] (AVA's), x1 < x2, y1 < y2. */
export interface NormalizedBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** A labelled ground-truth box of a keyframe: its person (object) id and the actions it performs. */
export interface LabelledBox extends NormalizedBox {
  readonly person: number;
  /** Action indices (0-based, into the dataset's class names). */
  readonly actions: readonly number[];
}

/** A person proposal with its detector score. */
export interface ProposalBox extends NormalizedBox {
  readonly score: number;
}

/** One keyframe of a video with the clip centred on it. */
export interface DetectionKeyframe {
  /** AVA's video_id and timestamp (seconds). */
  readonly video: string;
  readonly timestamp: number;
  /** The clip [T, H, W, 3] in [0, 1], channels-last, centred on the keyframe. */
  readonly clip: Float32Array;
  /** The clip's frame size where it is not the detector's input's: a training clip kept at its largest scale, scaled and cut each step (src/data/views.ts `trainKeyframeView`). */
  readonly size?: { readonly width: number; readonly height: number };
  readonly boxes: readonly LabelledBox[];
  readonly proposals: readonly ProposalBox[];
}

export interface DetectionSplits {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  readonly train: readonly DetectionKeyframe[];
  readonly val: readonly DetectionKeyframe[];
}

export interface MotionBoxesOptions {
  /** Motion classes (2 to 8, the first of builtin:motion's; default 4: right, left, up, down). */
  readonly classes?: number;
  readonly frames?: number;
  readonly size?: number;
  readonly trainClips?: number;
  readonly valClips?: number;
  readonly seed?: number;
}

/** Whether `data` names this dataset. */
export const isMotionBoxes = (data: string): boolean => data === "builtin:motion-boxes";

const SPLIT_SALT = { train: 0x2545f491, val: 0x9e3779b9 } as const;

/** The class names of builtin:motion-boxes with `classes` classes. */
export function motionBoxesClassNames(classes = 4): readonly string[] {
  if (!Number.isInteger(classes) || classes < 2 || classes > MOTION_CLASSES.length)
    throw new Error(`builtin:motion-boxes has 2 to ${MOTION_CLASSES.length} classes, not ${classes}`);
  return MOTION_CLASSES.slice(0, classes);
}

/** The keyframes of one split, deterministic in the options. */
export function motionBoxKeyframes(options: MotionBoxesOptions, split: "train" | "val", count: number): DetectionKeyframe[] {
  const classes = motionBoxesClassNames(options.classes).length;
  const frames = options.frames ?? 8;
  const size = options.size ?? 32;
  const random = seededRandom(((options.seed ?? 0) ^ SPLIT_SALT[split]) >>> 0);
  const keyframes: DetectionKeyframe[] = [];
  const middle = (frames - 1) / 2;
  for (let i = 0; i < count; i++) {
    const objects = 2 + Math.floor(random() * 2);
    // Each object in its own vertical band, small enough to stay inside it over the clip.
    const band = size / objects;
    const placed: (SceneObject & { box: NormalizedBox; action: number })[] = [];
    let background: ReturnType<typeof drawScene>["scene"] | undefined;
    for (let k = 0; k < objects; k++) {
      const action = Math.floor(random() * classes);
      const { scene: drawn } = drawScene(action, "motion", size, random);
      background ??= drawn;
      const half = Math.min(band * 0.22, size * 0.14);
      const speed = Math.min(drawn.speed, (band * 0.5 - half * 1.5) / Math.max(middle, 1));
      const rest = { x: band * (k + 0.5), y: size * (0.35 + 0.3 * random()), angle: drawn.rest.angle, scale: 1 };
      const scene = {
        ...drawn,
        half,
        checker: (2 + Math.floor(random() * 2)) / (2 * half),
        speed: Math.max(speed, 0.6),
        growth: Math.min(drawn.growth, 1.05),
        rest,
      };
      const poseAt = (t: number) => moved(scene, action, rest, t - middle);
      // The box of the object at the keyframe: its extent, rotated squares reaching further.
      const pose = poseAt(middle);
      const reach = half * pose.scale * (scene.disc ? 1 : Math.abs(Math.cos(pose.angle)) + Math.abs(Math.sin(pose.angle)));
      const box = clampBox({ x1: (pose.x - reach) / size, y1: (pose.y - reach) / size, x2: (pose.x + reach) / size, y2: (pose.y + reach) / size });
      placed.push({ scene, poseAt, box, action });
    }
    const clip = new Float32Array(frames * size * size * 3);
    renderObjects(clip, background!, placed, frames, size, random);
    const boxes = placed.map((p, k) => ({ ...p.box, person: k, actions: [p.action] }));
    const jitter = () => (random() - 0.5) * (2 / size);
    const proposals: ProposalBox[] = boxes.map((b) => ({
      ...clampBox({ x1: b.x1 + jitter(), y1: b.y1 + jitter(), x2: b.x2 + jitter(), y2: b.y2 + jitter() }),
      score: 0.85 + 0.15 * random(),
    }));
    if (random() < 0.5) {
      const x = random() * 0.7;
      const y = random() * 0.7;
      proposals.push({ x1: x, y1: y, x2: x + 0.2, y2: y + 0.2, score: 0.2 + 0.4 * random() });
    }
    keyframes.push({ video: `motion_boxes_${split}_${String(i).padStart(4, "0")}`, timestamp: 0, clip, boxes, proposals });
  }
  return keyframes;
}

/** The dataset: both splits (default 96 training and 32 validation clips of 8 frames at 32x32). */
export function motionBoxesDataset(options: MotionBoxesOptions = {}): DetectionSplits {
  const size = options.size ?? 32;
  return {
    name: "builtin:motion-boxes",
    classNames: motionBoxesClassNames(options.classes),
    frames: options.frames ?? 8,
    height: size,
    width: size,
    train: motionBoxKeyframes(options, "train", options.trainClips ?? 96),
    val: motionBoxKeyframes(options, "val", options.valClips ?? 32),
  };
}

function clampBox(b: NormalizedBox): NormalizedBox {
  const c = (v: number) => Math.min(1, Math.max(0, v));
  return { x1: c(b.x1), y1: c(b.y1), x2: c(b.x2), y2: c(b.y2) };
}
