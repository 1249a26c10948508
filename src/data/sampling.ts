/**
 * Clip sampling exactly as a spec's `sampling` section says, as pure functions from a plain
 * `SamplingProtocol` (src/semantics/protocol.ts: the IR carries it and exported models store it) and
 * a video's metadata (a file's, a tensor's, a built-in clip's) to plans: which raw frames to read, the size to resize them
 * to, and the crop boxes and flips to cut. `train`, `eval` and `predict` all sample through here.
 *
 * Time. A clip has T frames, `step` raw frames apart: `stride`, or source fps / `fps` when the
 * spec resamples (frame k is the raw frame nearest to k / fps seconds after the start), else 1.
 * It spans (T - 1) * step + 1 raw frames. `jitter` moves each training frame by a random number
 * of raw frames in [-jitter, jitter]. Past the last frame, a short video loops
 * (`short_videos = "loop"`) or repeats its last frame (`"repeat_last"`).
 * Training clips start at one random position (`choice = "random"`), at floor(n / span) evenly
 * spaced positions (`"uniform"`), or at every raw-frame position (`"dense"`). Test clips are
 * placed as MMAction2's SampleFrames places them in test mode (`testStarts`): evenly spaced from
 * the first frame to the last start that fits, one clip in the middle of the video; clips of one
 * frame (2D networks) at the centres of equal segments.
 * With `segments = K` (TSN) a clip is K pieces of T / K frames (span s = (T / K - 1) * step + 1),
 * placed as MMAction2's SampleFrames with num_clips = K: in training, with d = floor((n - s + 1) / K),
 * piece i starts at i * d plus a random offset in [0, d), or (d = 0) at K sorted random positions
 * when n > max(K, s), else at round(i * (n - s + 1) / K); in testing, with d = (n - s + 1) / K,
 * at floor(i * d + d / 2).
 *
 * Space. Training resizes the short side to a random size in `scale` (else like testing), then
 * crops the input's H x W at random (`crop_mode = "random"`) or at the centre, flipping
 * horizontally with probability 1/2 when `flip`. Testing resizes the short side to `resize`
 * (default: the smallest training scale, else the crop size) and cuts the centre crop, three
 * crops along the long side (start, centre, end), or ten (four corners and the centre, each also
 * flipped). A frame whose resized size would not cover the crop is resized up until it does.
 *
 * Keyframes. A detector's clip is centred on its keyframe (`keyframeFrames`) as PySlowFast's AVA
 * loader centres it (ava_dataset.py, utils.get_sequence): the keyframe's raw frame c (nearest its
 * time), then T frames `step` apart from c - floor(T x step / 2), clamped into the video at both
 * ends (a keyframe clip never loops, whatever `short_videos` says). Training keyframes take the
 * training timing, validation and `vnet detect` the test timing; no frame is jittered. In space a
 * training keyframe is augmented as ava_dataset.py's _images_and_boxes_preprocessing_cv2 does it,
 * one transform for all its frames and its boxes (`trainSpace` with the inverse-uniform scale
 * draw, `viewBox`): the short side to a size in `scale`, a random (or centre) crop of the input's
 * H x W, a horizontal flip with probability 1/2 when `flip`; without `scale` the whole frame is
 * resized to the input, and only flipped. Testing resizes the whole frame to the input (a compiled
 * detector's input has one size: PySlowFast's test path feeds the uncropped frame, short side
 * TEST_CROP_SIZE, to a network that takes any size). get_sequence's
 * range ends before c + T x step / 2, so with stride 1 and an odd T it gives T - 1 frames; the clip
 * here always has the T frames the network reads (the range continued by one stride).
 *
 * A network without a `sampling` section is sampled plainly: consecutive frames from a random
 * start, short side resized to the input, centre crop, no flip; one centre clip at test time. A 2D
 * network (an `image(...)` input) samples clips of one frame.
 */
import { testTiming, type SamplingProtocol } from "../semantics/protocol.js";

/** The metadata sampling needs: frame count, frame rate and decoded frame size. */
export interface VideoMeta {
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  /** Frame intervals vary (a phone's variable frame rate): frame n is not at n / fps seconds, so decoding counts frames instead of seeking. */
  readonly variableRate?: boolean;
}

/** One crop of a resized frame: its top-left corner (the size is the input's H x W) and a flip. */
export interface Crop {
  readonly x: number;
  readonly y: number;
  readonly flip: boolean;
}

/** One clip to read: raw frame indices (in clip order, within the video), the resize, its crops. */
export interface ClipPlan {
  readonly frames: readonly number[];
  readonly width: number;
  readonly height: number;
  readonly crops: readonly Crop[];
}

/** Raw frames between clip frames: the stride, or the source rate over the spec's rate, else 1. */
function frameStep(timing: { readonly stride?: number; readonly fps?: number }, meta: VideoMeta): number {
  if (timing.stride !== undefined) return timing.stride;
  if (timing.fps !== undefined) return meta.fps / timing.fps;
  return 1;
}

/**
 * Raw frame indices of a clip (or one segment's `length` frames) from raw frame `start`, folded
 * into the video: before the first frame to the first, past the last as `fold` says (the
 * protocol's `short_videos`).
 */
function clipFrames(
  protocol: SamplingProtocol,
  meta: VideoMeta,
  start: number,
  step: number,
  jitter: (() => number) | undefined,
  length = protocol.frames,
  fold: SamplingProtocol["shortVideos"] = protocol.shortVideos,
): number[] {
  const n = meta.frames;
  return Array.from({ length }, (_, k) => {
    let index = Math.round(start + k * step) + (jitter ? jitter() : 0);
    if (index < 0) index = 0;
    if (index >= n) index = fold === "loop" ? index % n : n - 1;
    return index;
  });
}

/** Frame size after resizing the short side to `short`, enlarged if it would not cover the crop. */
export function resizedSize(protocol: SamplingProtocol, meta: Pick<VideoMeta, "width" | "height">, short: number): { width: number; height: number } {
  const factor = Math.max(short / Math.min(meta.width, meta.height), protocol.width / meta.width, protocol.height / meta.height);
  return { width: Math.max(protocol.width, Math.round(meta.width * factor)), height: Math.max(protocol.height, Math.round(meta.height * factor)) };
}

function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/**
 * Training clips of one video for one epoch (one for `choice = "random"`), each with one crop;
 * `random` (a seeded generator) draws the start, jitter, scale, crop and flip.
 */
export function trainPlans(protocol: SamplingProtocol, meta: VideoMeta, random: () => number): ClipPlan[] {
  const { train } = protocol;
  const step = frameStep(train, meta);
  const jitter = train.jitter > 0 ? () => randomInt(random, -train.jitter, train.jitter) : undefined;
  if (train.segments !== undefined) {
    const frames = segmentFrames(protocol, meta, train.segments, step, jitter, random);
    return [{ frames, ...trainSpace(protocol, meta, random) }];
  }
  const room = Math.max(0, Math.floor(meta.frames - ((protocol.frames - 1) * step + 1)));
  let starts: number[];
  if (train.choice === "random") starts = [randomInt(random, 0, room)];
  else if (train.choice === "dense") starts = Array.from({ length: room + 1 }, (_, i) => i);
  else {
    const count = Math.max(1, Math.floor(meta.frames / ((protocol.frames - 1) * step + 1)));
    starts = Array.from({ length: count }, (_, i) => (count === 1 ? Math.floor(room / 2) : Math.round((i * room) / (count - 1))));
  }
  return starts.map((start) => {
    const frames = clipFrames(protocol, meta, start, step, jitter);
    return { frames, ...trainSpace(protocol, meta, random) };
  });
}

/**
 * The space of one training view: the short side resized to a size drawn in `scale` (uniformly,
 * or `inverse`: 1 / size uniform in [1 / max, 1 / min], rounded, as PySlowFast's AVA loader draws
 * it, cv2_transform.random_short_side_scale_jitter_list), else to the test resize; one training
 * crop of it (`trainCrop`).
 */
export function trainSpace(
  protocol: SamplingProtocol,
  meta: Pick<VideoMeta, "width" | "height">,
  random: () => number,
  draw: "uniform" | "inverse" = "uniform",
): { width: number; height: number; crops: [Crop] } {
  const scale = protocol.train.scale;
  let short = protocol.test.resize;
  if (scale) short = draw === "uniform" ? randomInt(random, scale[0], scale[1]) : Math.round(1 / (1 / scale[1] + random() * (1 / scale[0] - 1 / scale[1])));
  const size = resizedSize(protocol, meta, short);
  return { ...size, crops: [trainCrop(protocol, size, random)] };
}

/** A box's corners, normalised to its frame's width and height. */
export interface FrameBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/**
 * A box normalised to a frame, normalised to the view `crop` cuts (the input's H x W) from that
 * frame resized to `size`: the crop's offset taken off, clipped to the crop (a box that leaves it
 * becomes a box on its edge, kept, as PySlowFast's crop_boxes and clip_boxes_to_image keep it),
 * mirrored when the view is flipped (x to 1 - x). Boxes are continuous here (x = 1 is the right
 * edge), where PySlowFast's pixel boxes clip to width - 1 and flip to width - 1 - x.
 */
export function viewBox<B extends FrameBox>(
  box: B,
  protocol: Pick<SamplingProtocol, "width" | "height">,
  size: { width: number; height: number },
  crop: Crop,
): B {
  const W = protocol.width;
  const H = protocol.height;
  const clipX = (x: number) => Math.min(1, Math.max(0, (x * size.width - crop.x) / W));
  const clipY = (y: number) => Math.min(1, Math.max(0, (y * size.height - crop.y) / H));
  const [x1, x2] = crop.flip ? [1 - clipX(box.x2), 1 - clipX(box.x1)] : [clipX(box.x1), clipX(box.x2)];
  return { ...box, x1, y1: clipY(box.y1), x2, y2: clipY(box.y2) };
}

/** A training crop of a resized frame: at random or at the centre, flipped at random when `flip`. */
function trainCrop(protocol: SamplingProtocol, size: { width: number; height: number }, random: () => number): Crop {
  const { train } = protocol;
  const x = train.cropMode === "random" ? randomInt(random, 0, size.width - protocol.width) : Math.floor((size.width - protocol.width) / 2);
  const y = train.cropMode === "random" ? randomInt(random, 0, size.height - protocol.height) : Math.floor((size.height - protocol.height) / 2);
  return { x, y, flip: train.flip && random() < 0.5 };
}

/**
 * The frames of a segment-sampled clip (see the file comment): `segments` pieces of T / segments
 * frames; training (`random` given) draws each piece's start in its segment, testing takes centres.
 */
function segmentFrames(
  protocol: SamplingProtocol,
  meta: VideoMeta,
  segments: number,
  step: number,
  jitter: (() => number) | undefined,
  random?: () => number,
): number[] {
  const n = meta.frames;
  const length = Math.max(1, Math.floor(protocol.frames / segments));
  const span = Math.round((length - 1) * step) + 1;
  let offsets: number[];
  if (random) {
    const average = Math.floor((n - span + 1) / segments);
    if (average > 0) offsets = Array.from({ length: segments }, (_, i) => i * average + randomInt(random, 0, average - 1));
    else if (n > Math.max(segments, span)) offsets = Array.from({ length: segments }, () => randomInt(random, 0, n - span)).sort((a, b) => a - b);
    else {
      const ratio = (n - span + 1) / segments;
      offsets = Array.from({ length: segments }, (_, i) => (ratio > 0 ? roundHalfEven(i * ratio) : 0));
    }
  } else {
    const interval = (n - span + 1) / segments;
    offsets = Array.from({ length: segments }, (_, i) => (n > span - 1 ? Math.floor(i * interval + interval / 2) : 0));
  }
  return offsets.flatMap((offset) => clipFrames(protocol, meta, offset, step, jitter, length));
}

/**
 * Start frames of the test clips, as MMAction2's SampleFrames places them in test mode (and
 * PySlowFast with offset sampling): `clips` clips evenly spaced from the first frame to the last
 * start that fits (numpy's rounding, half to even), one clip in the middle; clips of one frame (2D
 * networks) at the centres of `clips` equal segments (TSN). A video shorter than a clip starts
 * every clip at frame 0.
 */
export function testStarts(protocol: SamplingProtocol, meta: VideoMeta, clips = protocol.test.clips): number[] {
  if (protocol.frames === 1) {
    const segment = meta.frames / clips;
    return Array.from({ length: clips }, (_, i) => Math.floor(segment * i + segment / 2));
  }
  const span = (protocol.frames - 1) * frameStep(testTiming(protocol), meta) + 1;
  const maxOffset = Math.max(meta.frames - span, 0);
  if (clips === 1) return [Math.floor(maxOffset / 2)];
  const between = maxOffset / (clips - 1);
  return Array.from({ length: clips }, (_, i) => roundHalfEven(i * between));
}

/** Rounds to the nearest integer, ties to even (numpy's `round`). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  if (x - floor !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The test views of one video: `clips` clips (default the protocol's) placed by `testStarts`,
 * each with its crops (default the protocol's), clip-major; `clips = 1, crops = "center"` is the
 * single validation view used during training.
 */
export function testPlans(protocol: SamplingProtocol, meta: VideoMeta, clips = protocol.test.clips, crops = protocol.test.crops): ClipPlan[] {
  const step = frameStep(testTiming(protocol), meta);
  const size = resizedSize(protocol, meta, protocol.test.resize);
  const boxes = testCrops(protocol, size, crops);
  if (protocol.test.segments !== undefined) return [{ frames: segmentFrames(protocol, meta, protocol.test.segments, step, undefined), ...size, crops: boxes }];
  return testStarts(protocol, meta, clips).map((start) => ({ frames: clipFrames(protocol, meta, start, step, undefined), ...size, crops: boxes }));
}

/**
 * The raw frames of the clip centred on the keyframe at `timestamp` seconds (see the file
 * comment): a detector's training keyframes (`split = "train"`) at the training timing, its
 * validation and `vnet detect` keyframes at the test timing.
 */
export function keyframeFrames(protocol: SamplingProtocol, meta: VideoMeta, timestamp: number, split: "train" | "test"): number[] {
  const step = frameStep(split === "train" ? protocol.train : testTiming(protocol), meta);
  const centre = Math.round(timestamp * meta.fps);
  return clipFrames(protocol, meta, centre - Math.floor((protocol.frames * step) / 2), step, undefined, protocol.frames, "repeat_last");
}

/** Raw frames one test clip spans at its frame step (`frames` x step): a snippet's default length. */
export function snippetLength(protocol: SamplingProtocol, meta: VideoMeta): number {
  const timing = protocol.test.stride !== undefined || protocol.test.fps !== undefined ? protocol.test : protocol.train;
  return Math.max(1, Math.round(protocol.frames * frameStep(timing, meta)));
}

/**
 * Sliding-window snippets over a whole video (`vnet features`): clips of the protocol's T frames
 * spread over `length` raw frames (frame k at start + round(k x length / T)), starting every
 * `step` raw frames from the first while a snippet fits (a video shorter than one snippet gets one
 * at frame 0, folded as `short_videos` says), each the centre crop at the test resize.
 */
export function snippetPlans(protocol: SamplingProtocol, meta: VideoMeta, length: number, step: number): ClipPlan[] {
  const count = Math.max(1, Math.floor((meta.frames - length) / step) + 1);
  const size = resizedSize(protocol, meta, protocol.test.resize);
  const boxes = testCrops(protocol, size, "center");
  return Array.from({ length: count }, (_, i) => ({
    frames: clipFrames(protocol, meta, i * step, length / protocol.frames, undefined),
    ...size,
    crops: boxes,
  }));
}

function testCrops(protocol: SamplingProtocol, size: { width: number; height: number }, crops: SamplingProtocol["test"]["crops"]): Crop[] {
  const right = size.width - protocol.width;
  const bottom = size.height - protocol.height;
  const centre = { x: Math.floor(right / 2), y: Math.floor(bottom / 2), flip: false };
  if (crops === "center") return [centre];
  if (crops === "three") {
    // Along the long side: start, centre, end.
    return size.width >= size.height
      ? [0, centre.x, right].map((x) => ({ x, y: centre.y, flip: false }))
      : [0, centre.y, bottom].map((y) => ({ x: centre.x, y, flip: false }));
  }
  const five = [{ x: 0, y: 0 }, { x: right, y: 0 }, { x: 0, y: bottom }, { x: right, y: bottom }, centre].map((c) => ({ x: c.x, y: c.y, flip: false }));
  return [...five, ...five.map((c) => ({ ...c, flip: true }))];
}
