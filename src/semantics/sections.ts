/**
 * Schemas of the data sections a network may carry (`sampling`, `training`) and of the inflation
 * settings. A section is plain data; the checker validates keys, types and ranges here.
 */

export type FieldType =
  | { kind: "int"; min?: number; max?: number }
  | { kind: "number"; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: "bool" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "ints"; length?: number; min?: number }
  | { kind: "strings" }
  | { kind: "section"; fields: Schema };

export interface Field {
  readonly type: FieldType;
  readonly default?: number | boolean | string | readonly number[];
  readonly doc: string;
}

export type Schema = Readonly<Record<string, Field>>;

const trainSampling: Schema = {
  frames: { type: { kind: "int", min: 1 }, doc: "Frames per clip; must equal the input's frames (defaults to it)." },
  stride: {
    type: { kind: "int", min: 1 },
    doc: "Take every stride-th raw frame (exclusive with fps); a detector's keyframe clips too (PySlowFast's SAMPLING_RATE).",
  },
  fps: { type: { kind: "number", min: 0, exclusiveMin: true }, doc: "Resample the video to this frame rate first (exclusive with stride)." },
  choice: {
    type: { kind: "enum", values: ["random", "uniform", "dense"] },
    default: "random",
    doc: "Where clips start: one random position, evenly spaced, or every position.",
  },
  segments: {
    type: { kind: "int", min: 1 },
    doc: "TSN segment sampling: the video is cut into this many equal segments and each gives frames / segments consecutive frames (one frame each when they are equal) from a random position (MMAction2's SampleFrames with num_clips). Replaces `choice`.",
  },
  jitter: { type: { kind: "int", min: 0 }, default: 0, doc: "Random offset of each sampled frame, in raw frames." },
  scale: { type: { kind: "ints", length: 2, min: 1 }, doc: "Resize the short side to a random size in [min, max] before cropping." },
  crop: { type: { kind: "int", min: 1 }, doc: "Square crop size; must equal the input's height and width." },
  crop_mode: { type: { kind: "enum", values: ["random", "center"] }, default: "random", doc: "Where the training crop is taken." },
  flip: { type: { kind: "bool" }, default: true, doc: "Random horizontal flip." },
};

const testSampling: Schema = {
  clips: { type: { kind: "int", min: 1 }, default: 1, doc: "Clips per video, spaced uniformly." },
  crops: {
    type: { kind: "enum", values: ["center", "three", "ten"] },
    default: "center",
    doc: "Spatial crops per clip: centre, three along the long side, or ten (corners + centre, flipped).",
  },
  average: { type: { kind: "enum", values: ["logits", "softmax", "max"] }, default: "softmax", doc: "How the views' predictions combine." },
  segments: { type: { kind: "int", min: 1 }, doc: "Segment sampling at test time, each segment's frames from its centre (defaults to training's)." },
  stride: { type: { kind: "int", min: 1 }, doc: "Frame stride at test time (defaults to training's)." },
  fps: { type: { kind: "number", min: 0, exclusiveMin: true }, doc: "Frame rate at test time (defaults to training's)." },
  resize: { type: { kind: "int", min: 1 }, doc: "Short side before cropping." },
};

export const SECTION_SCHEMAS: Readonly<Record<string, Schema>> = {
  sampling: {
    train: { type: { kind: "section", fields: trainSampling }, doc: "How training clips are drawn." },
    test: { type: { kind: "section", fields: testSampling }, doc: "How a video is tested: clips x crops, averaged." },
    short_videos: {
      type: { kind: "enum", values: ["loop", "repeat_last"] },
      default: "loop",
      doc: "Videos shorter than a clip: loop them or repeat the last frame.",
    },
  },
  features: {
    length: { type: { kind: "int", min: 1 }, doc: "`vnet features`: raw frames one snippet covers (default: the input clip at its test frame step)." },
    step: { type: { kind: "int", min: 1 }, doc: "`vnet features`: raw frames between snippet starts (default: half the length)." },
    scale: {
      type: { kind: "int", min: 0 },
      default: 100,
      doc: "`vnet features`: positions the snippet features are resampled to (BMN's 100; 0 keeps the snippets).",
    },
  },
  training: {
    optimizer: { type: { kind: "enum", values: ["sgd", "adam"] }, default: "sgd", doc: "Optimizer." },
    lr: { type: { kind: "number", min: 0, exclusiveMin: true }, default: 0.01, doc: "Base learning rate." },
    momentum: { type: { kind: "number", min: 0, max: 1 }, default: 0.9, doc: "SGD momentum." },
    nesterov: { type: { kind: "bool" }, default: false, doc: "Nesterov momentum." },
    weight_decay: { type: { kind: "number", min: 0 }, default: 0, doc: "L2 weight decay." },
    schedule: { type: { kind: "enum", values: ["constant", "step", "cosine"] }, default: "constant", doc: "Learning-rate schedule." },
    steps: { type: { kind: "ints", min: 1 }, doc: "Epochs at which the step schedule multiplies the rate by gamma." },
    gamma: { type: { kind: "number", min: 0, exclusiveMin: true }, default: 0.1, doc: "Step schedule factor." },
    warmup: { type: { kind: "int", min: 0 }, default: 0, doc: "Linear warm-up epochs." },
    warmup_start_lr: {
      type: { kind: "number", min: 0 },
      default: 0,
      doc: "The rate the linear warm-up starts from (PySlowFast's SOLVER.WARMUP_START_LR); it rises to the schedule's rate at the end of the warm-up.",
    },
    epochs: { type: { kind: "int", min: 1 }, default: 10, doc: "Training epochs." },
    batch: { type: { kind: "int", min: 1 }, default: 8, doc: "Clips per batch." },
    label_smoothing: { type: { kind: "number", min: 0, max: 1 }, default: 0, doc: "Label smoothing." },
    freeze: {
      type: { kind: "strings" },
      doc: 'Layers whose weights stay fixed: globs of `as` names (`["stem", "layer1.*"]`), each freezing the layers it names and everything inside them (`*` within a name segment, `**` across segments). A frozen batch norm uses its moving statistics.',
    },
  },
};

/** Keys of `inflate NAME { ... }` itself. */
export const INFLATE_SETTINGS: Schema = {
  init: {
    type: { kind: "enum", values: ["repeat", "center"] },
    default: "repeat",
    doc: "2D -> 3D weights: repeat over time and divide by T (I3D), or centre initialisation.",
  },
};

/** Keys of one inflation rule `"pattern" { ... }`. */
export const INFLATE_RULE: Schema = {
  kernel: { type: { kind: "int", min: 1 }, doc: "Temporal kernel size given to the matched convs/pools." },
  stride: { type: { kind: "int", min: 1 }, doc: "Temporal stride." },
  pad: { type: { kind: "int", min: 0 }, doc: "Temporal padding (defaults to kernel / 2 for convs, 0 for pools)." },
  init: { type: { kind: "enum", values: ["repeat", "center"] }, doc: "Overrides the weight inflation for these layers." },
};

/** Network-level properties written as bindings. */
export const NETWORK_PROPERTIES = ["classes", "class_names", "description", "task"] as const;
