/**
 * `builtin:motion`: a synthetic video dataset whose classes differ only in how a textured shape
 * moves over a textured background (translation in four directions, rotation either way,
 * expansion, contraction). Every clip draws its appearance (colours, textures, size, position,
 * angle) from one distribution shared by all classes, each trajectory is centred on the middle
 * frame, and the frame wraps around, so a single frame says nothing about the class: only a model
 * that compares frames can beat chance. `builtin:motion-appearance` is the control: the class is the shape's colour and
 * outline and its motion is random, so a single-frame model solves it.
 *
 * Everything derives from a seed through a small PRNG, so a dataset is the same on every machine.
 */

/** The classes of `builtin:motion`, in label order; a spec with k classes uses the first k. */
export const MOTION_CLASSES = ["right", "left", "up", "down", "rotate_cw", "rotate_ccw", "expand", "contract"] as const;

/** The classes of `builtin:motion-appearance`. */
export const APPEARANCE_CLASSES = [
  "red_square",
  "green_disc",
  "blue_square",
  "yellow_disc",
  "magenta_square",
  "cyan_disc",
  "white_square",
  "orange_disc",
] as const;

export type MotionVariant = "motion" | "appearance";

export interface MotionOptions {
  readonly variant?: MotionVariant;
  /** Number of classes (at most 8; the first ones of the variant's list). */
  readonly classes?: number;
  readonly frames?: number;
  readonly size?: number;
  /** Training clips per class. */
  readonly trainPerClass?: number;
  /** Validation clips per class. */
  readonly valPerClass?: number;
  readonly seed?: number;
  /** Also return where the moving object is (`masks`), for tests of what a model looks at. */
  readonly masks?: boolean;
}

/** Clips [count, frames, height, width, 3] in [0, 1], channels-last, with integer labels. */
export interface ClipSet {
  readonly count: number;
  readonly clips: Float32Array;
  readonly labels: Int32Array;
  /** With `masks`: [count, frames, height, width], 1 where the moving object is drawn. */
  readonly masks?: Uint8Array;
}

export interface VideoDataset {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 3;
  readonly train: ClipSet;
  readonly val: ClipSet;
}

/** mulberry32: a fast 32-bit PRNG, good enough for synthetic data and identical everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distinct seed streams for the two splits, so adding training clips leaves validation alone. */
const SPLIT_SALT = { train: 0x9e3779b9, val: 0x85ebca6b } as const;

const APPEARANCE_COLOURS: readonly (readonly [number, number, number])[] = [
  [0.9, 0.15, 0.15],
  [0.15, 0.85, 0.2],
  [0.2, 0.3, 0.95],
  [0.95, 0.9, 0.15],
  [0.9, 0.2, 0.9],
  [0.15, 0.9, 0.9],
  [0.95, 0.95, 0.95],
  [0.95, 0.55, 0.1],
];

/** Class names of a variant with `classes` classes (all by default); throws for a bad count. */
export function motionClassNames(variant: MotionVariant, classes: number | undefined): readonly string[] {
  const names = variant === "motion" ? MOTION_CLASSES : APPEARANCE_CLASSES;
  const count = classes ?? names.length;
  if (!Number.isInteger(count) || count < 2 || count > names.length) {
    throw new Error(`builtin:${variant === "motion" ? "motion" : "motion-appearance"} has 2 to ${names.length} classes, not ${count}`);
  }
  return names.slice(0, count);
}

/** One rendered video: its label and frames [length, size, size, 3] in [0, 1]. */
export interface MotionVideo {
  readonly label: number;
  readonly length: number;
  readonly pixels: Float32Array;
  /** With `masks`: [length, size, size], 1 where the moving object is drawn. */
  readonly mask?: Uint8Array;
}

/**
 * The videos of one split, rendered one at a time: `perClass` per class with interleaved labels,
 * video i being `lengthOf(i)` frames long (the options' `frames` by default). The same options
 * and lengths give the same videos; `motionDataset` is these at the clip length.
 */
export function* motionVideos(
  options: MotionOptions,
  split: "train" | "val",
  perClass: number,
  lengthOf: (i: number) => number = () => options.frames ?? 8,
): Generator<MotionVideo> {
  const variant = options.variant ?? "motion";
  const classes = motionClassNames(variant, options.classes).length;
  const size = options.size ?? 32;
  const random = seededRandom(((options.seed ?? 0) ^ SPLIT_SALT[split]) >>> 0);
  for (let i = 0; i < perClass * classes; i++) {
    // Interleaved labels: any prefix of the split is balanced.
    const label = i % classes;
    const length = lengthOf(i);
    const pixels = new Float32Array(length * size * size * 3);
    const mask = options.masks ? new Uint8Array(length * size * size) : undefined;
    renderClip(pixels, label, variant, length, size, random, mask);
    yield { label, length, pixels, ...(mask ? { mask } : {}) };
  }
}

/** Builds a dataset (both splits) deterministically from the options' seed. */
export function motionDataset(options: MotionOptions = {}): VideoDataset {
  const variant = options.variant ?? "motion";
  const classNames = motionClassNames(variant, options.classes);
  const frames = options.frames ?? 8;
  const size = options.size ?? 32;
  const split = (name: "train" | "val", perClass: number): ClipSet => {
    const count = perClass * classNames.length;
    const clipSize = frames * size * size * 3;
    const clips = new Float32Array(count * clipSize);
    const labels = new Int32Array(count);
    const masks = options.masks ? new Uint8Array(count * frames * size * size) : undefined;
    let i = 0;
    for (const video of motionVideos(options, name, perClass)) {
      clips.set(video.pixels, i * clipSize);
      if (masks) masks.set(video.mask!, i * frames * size * size);
      labels[i++] = video.label;
    }
    return { count, clips, labels, ...(masks ? { masks } : {}) };
  };
  return {
    name: variant === "motion" ? "builtin:motion" : "builtin:motion-appearance",
    classNames,
    frames,
    height: size,
    width: size,
    channels: 3,
    train: split("train", options.trainPerClass ?? 48),
    val: split("val", options.valPerClass ?? 16),
  };
}

/** The object's placement in one frame. */
export interface Pose {
  x: number;
  y: number;
  angle: number;
  scale: number;
}

/** Colour in [lo, hi] per channel, the same distribution for every class. */
function randomColour(random: () => number, lo: number, hi: number): [number, number, number] {
  return [lo + (hi - lo) * random(), lo + (hi - lo) * random(), lo + (hi - lo) * random()];
}

/**
 * What a video shows, drawn once: the textured background, the checkered object and how fast it
 * moves (pixels, radians and scale factor per frame), and where it starts.
 */
export interface Scene {
  readonly background: readonly [number, number, number];
  readonly gratings: readonly { fx: number; fy: number; phase: number; amplitude: number }[];
  readonly colourA: readonly [number, number, number];
  readonly colourB: readonly [number, number, number];
  readonly disc: boolean;
  readonly half: number;
  readonly checker: number;
  readonly speed: number;
  readonly spin: number;
  readonly growth: number;
  /** The pose the motion is centred on. */
  readonly rest: Pose;
}

/** Draws a scene: the appearance of class `label` for the appearance variant, else from the shared distribution. */
export function drawScene(label: number, variant: MotionVariant, size: number, random: () => number): { scene: Scene; motion: number } {
  // Background: a static colour with two random sinusoidal gratings, so motion has texture to be
  // seen against and a model cannot just track the only non-flat region.
  const background = randomColour(random, 0.2, 0.6);
  const gratings = [0, 1].map(() => ({
    fx: (random() - 0.5) * 0.8,
    fy: (random() - 0.5) * 0.8,
    phase: random() * 2 * Math.PI,
    amplitude: 0.08 + 0.08 * random(),
  }));
  // Object: a checkered shape in two colours (its texture makes rotation visible).
  const motion = variant === "motion" ? label : Math.floor(random() * MOTION_CLASSES.length);
  let colourA: [number, number, number];
  let colourB: [number, number, number];
  let disc: boolean;
  if (variant === "motion") {
    colourA = randomColour(random, 0.3, 1);
    colourB = randomColour(random, 0, 0.7);
    disc = random() < 0.5;
  } else {
    const base = APPEARANCE_COLOURS[label]!;
    colourA = [base[0], base[1], base[2]];
    colourB = [base[0] * 0.6, base[1] * 0.6, base[2] * 0.6];
    disc = label % 2 === 1;
  }
  const half = size * (0.16 + 0.06 * random());
  // Checker squares of half or a third of the half-size: fine enough to show rotation, coarse
  // enough that a frame-to-frame shift stays well under half their period (no aliasing).
  const checker = (2 + Math.floor(random() * 2)) / (2 * half);
  const speed = size * (0.045 + 0.02 * random());
  const spin = 0.22 + 0.1 * random();
  const growth = 1.07 + 0.03 * random();
  // The frame is a torus (a shape leaving one side enters on the other), so every frame's
  // position is uniform for every class: keeping trajectories inside the frame would leave
  // translating shapes nearer the borders than rotating ones, a cue a single frame shows.
  const rest = { x: size * random(), y: size * random(), angle: random() * 2 * Math.PI, scale: 1 };
  return { scene: { background, gratings, colourA, colourB, disc, half, checker, speed, spin, growth, rest }, motion };
}

/** The pose after `d` frames of motion class `motion` from `from` (d may be negative). */
export function moved(scene: Scene, motion: number, from: Pose, d: number): Pose {
  const p: Pose = { ...from };
  switch (MOTION_CLASSES[motion]) {
    case "right":
      p.x += scene.speed * d;
      break;
    case "left":
      p.x -= scene.speed * d;
      break;
    case "up":
      p.y -= scene.speed * d;
      break;
    case "down":
      p.y += scene.speed * d;
      break;
    case "rotate_cw":
      p.angle += scene.spin * d;
      break;
    case "rotate_ccw":
      p.angle -= scene.spin * d;
      break;
    case "expand":
      p.scale = from.scale * scene.growth ** d;
      break;
    case "contract":
      p.scale = from.scale * scene.growth ** -d;
      break;
  }
  return p;
}

/** One object of a scene and where it is in each frame. */
export interface SceneObject {
  /** The object's appearance (its scene's background is not used). */
  readonly scene: Scene;
  readonly poseAt: (t: number) => Pose;
}

/**
 * Renders frames [frames, size, size, 3] of a scene into `out`, the object at `poseAt(t)`; with
 * `mask` ([frames, size, size]), also marks where the object is drawn.
 */
export function renderScene(
  out: Float32Array,
  scene: Scene,
  frames: number,
  size: number,
  poseAt: (t: number) => Pose,
  random: () => number,
  mask?: Uint8Array,
): void {
  renderObjects(out, scene, [{ scene, poseAt }], frames, size, random, mask);
}

/**
 * Renders `objects` over the background of `background` (the first object listed is in front);
 * with `mask`, marks each pixel with 1 + the index of the object drawn there.
 */
export function renderObjects(
  out: Float32Array,
  background: Scene,
  objects: readonly SceneObject[],
  frames: number,
  size: number,
  random: () => number,
  mask?: Uint8Array,
): void {
  const { background: base, gratings } = background;
  const noise = 0.02;
  const plane = size * size * 3;
  for (let t = 0; t < frames; t++) {
    const placed = objects.map(({ scene, poseAt }) => {
      const pose = poseAt(t);
      return { scene, ...pose, cos: Math.cos(pose.angle), sin: Math.sin(pose.angle), extent: scene.half * pose.scale };
    });
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const o = t * plane + (row * size + col) * 3;
        let colour: readonly number[] | undefined;
        for (let k = 0; k < placed.length && !colour; k++) {
          const { scene, x, y, cos, sin, scale, extent } = placed[k]!;
          const { colourA, colourB, disc, half, checker } = scene;
          const dx = wrap(col + 0.5 - x, size);
          const dy = wrap(row + 0.5 - y, size);
          // Object coordinates, in units of the unscaled half-size.
          const u = (cos * dx + sin * dy) / scale;
          const v = (-sin * dx + cos * dy) / scale;
          const inside = disc ? u * u + v * v <= half * half : Math.abs(u) <= half && Math.abs(v) <= half;
          if (inside && extent > 0.5) {
            if (mask) mask[t * size * size + row * size + col] = k + 1;
            colour = (Math.floor((u + half) * checker) + Math.floor((v + half) * checker)) % 2 === 0 ? colourA : colourB;
          }
        }
        if (colour) {
          for (let c = 0; c < 3; c++) out[o + c] = clamp(colour[c]! + noise * (random() - 0.5));
        } else {
          let shade = 0;
          for (const g of gratings) shade += g.amplitude * Math.sin(g.fx * col + g.fy * row + g.phase);
          for (let c = 0; c < 3; c++) out[o + c] = clamp(base[c]! + shade + noise * (random() - 0.5));
        }
      }
    }
  }
}

function renderClip(out: Float32Array, label: number, variant: MotionVariant, frames: number, size: number, random: () => number, mask?: Uint8Array): void {
  const { scene, motion } = drawScene(label, variant, size, random);
  // Each trajectory is centred on the middle frame.
  const middle = (frames - 1) / 2;
  renderScene(out, scene, frames, size, (t) => moved(scene, motion, scene.rest, t - middle), random, mask);
}

/** The offset on a circle of circumference `size` closest to zero, in [-size / 2, size / 2). */
function wrap(offset: number, size: number): number {
  return offset - size * Math.floor(offset / size + 0.5);
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/** Parses a `--data` value: `builtin:motion` or `builtin:motion-appearance` (undefined otherwise). */
export function builtinVariant(data: string): MotionVariant | undefined {
  if (data === "builtin:motion") return "motion";
  if (data === "builtin:motion-appearance") return "appearance";
  return undefined;
}
