/**
 * Test-time prediction for one video: the spec's views (clips x crops, `testViews`), their class
 * scores from any runtime, and the protocol's averaging (logits, softmax or max over views).
 * `testViews` is the one place that turns a decoded video into model inputs, so video files plug
 * in here once they can be decoded.
 */
import type { CropMode, TestProtocol, ViewAverage } from "../semantics/protocol.js";
import type { HostTensor } from "./onnx.js";

export interface Views {
  /** [V, T, H, W, C] in [0, 1]. */
  readonly views: HostTensor;
  /** How the views were taken, for the user. */
  readonly notes: readonly string[];
}

/** What happens to a video shorter than a clip (the sampling section's `short_videos`). */
export type ShortVideos = "loop" | "repeat_last";

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/** Frame indices of each clip: `clips` clips evenly spaced over the video (one centred clip when 1). */
export function clipFrameIndices(videoFrames: number, protocol: TestProtocol, shortVideos: ShortVideos): number[][] {
  const stride = protocol.stride ?? 1;
  const span = (protocol.frames - 1) * stride + 1;
  const delta = Math.max(0, videoFrames - span);
  const starts = protocol.clips === 1 ? [Math.floor(delta / 2)] : Array.from({ length: protocol.clips }, (_, i) => Math.round((delta * i) / (protocol.clips - 1)));
  const unique = [...new Set(starts)];
  const wrap = (i: number) => (i < videoFrames ? i : shortVideos === "loop" ? i % videoFrames : videoFrames - 1);
  return unique.map((start) => Array.from({ length: protocol.frames }, (_, j) => wrap(start + j * stride)));
}

/** Top-left corners (and flips) of the spatial crops of an [h, w] frame. */
export function cropPositions(height: number, width: number, crop: readonly [number, number], mode: CropMode): { y: number; x: number; flip: boolean }[] {
  const [ch, cw] = crop;
  const centre = { y: Math.floor((height - ch) / 2), x: Math.floor((width - cw) / 2), flip: false };
  let positions: { y: number; x: number; flip: boolean }[];
  if (mode === "center") positions = [centre];
  else if (mode === "three") {
    // Along the long side: start, centre, end (PySlowFast's three-crop testing).
    positions = height > width ? [0, centre.y, height - ch].map((y) => ({ y, x: centre.x, flip: false })) : [0, centre.x, width - cw].map((x) => ({ y: centre.y, x, flip: false }));
  } else {
    const corners = [{ y: 0, x: 0 }, { y: 0, x: width - cw }, { y: height - ch, x: 0 }, { y: height - ch, x: width - cw }, centre].map((p) => ({ ...p, flip: false }));
    positions = [...corners, ...corners.map((p) => ({ ...p, flip: true }))];
  }
  const seen = new Set<string>();
  return positions.filter((p) => {
    const key = `${p.y},${p.x},${p.flip}`;
    return !seen.has(key) && seen.add(key);
  });
}

/** Resizes [T, H, W, C] frames so the short side is `short` (bilinear, half-pixel centres). */
async function resizeShortSide(video: HostTensor, short: number): Promise<HostTensor> {
  const [t, h, w, c] = video.shape as [number, number, number, number];
  const scale = short / Math.min(h, w);
  const size: [number, number] = [Math.round(h * scale), Math.round(w * scale)];
  const tf = await import("@tensorflow/tfjs");
  const resized = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(video.data, [t, h, w, c]), size, false, true));
  const data = (await resized.data()) as Float32Array;
  resized.dispose();
  return { data, shape: [t, ...size, c] };
}

/**
 * The test views of a video [T, H, W, C] in [0, 1] under the protocol: `clips` clips evenly spaced
 * in time at the protocol's stride, the short side resized to `resize` (or to the crop when
 * smaller), then `crops` crops of the input size. A batch [N, T, H, W, C] of the input's size is
 * taken as ready-made views.
 */
export async function testViews(video: HostTensor, protocol: TestProtocol, shortVideos: ShortVideos = "loop"): Promise<Views> {
  const [height, width] = protocol.size;
  if (video.shape.length === 5) {
    const [n, t, h, w] = video.shape as [number, number, number, number];
    if (t !== protocol.frames || h !== height || w !== width) {
      throw new Error(`a batch of views must be [N, ${protocol.frames}, ${height}, ${width}, C], got [${video.shape.join(", ")}]`);
    }
    return { views: video, notes: [`${n} view${n === 1 ? "" : "s"} given`] };
  }
  if (video.shape.length !== 4) throw new Error(`a video is [T, H, W, C] or a batch of views [N, T, H, W, C], got [${video.shape.join(", ")}]`);
  const notes: string[] = [];
  if (protocol.fps !== undefined) notes.push(`the protocol samples at ${protocol.fps} fps; a tensor has no frame rate, so frames are taken consecutively`);
  let frames = video;
  const short = Math.min(video.shape[1]!, video.shape[2]!);
  const target = Math.max(protocol.resize ?? short, height, width);
  if (short !== target && !(video.shape[1] === height && video.shape[2] === width)) {
    frames = await resizeShortSide(video, target);
    notes.push(`resized to ${frames.shape[1]}x${frames.shape[2]} (short side ${target})`);
  }
  const [t, h, w, c] = frames.shape as [number, number, number, number];
  const clips = clipFrameIndices(t, protocol, shortVideos);
  const crops = cropPositions(h, w, [height, width], protocol.crops);
  const viewSize = protocol.frames * height * width * c;
  const data = new Float32Array(clips.length * crops.length * viewSize);
  let offset = 0;
  for (const indices of clips) {
    for (const crop of crops) {
      for (const frame of indices) {
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const sx = crop.flip ? crop.x + width - 1 - x : crop.x + x;
            const from = ((frame * h + crop.y + y) * w + sx) * c;
            data.set(frames.data.subarray(from, from + c), offset);
            offset += c;
          }
        }
      }
    }
  }
  notes.unshift(`${clips.length} clip${clips.length === 1 ? "" : "s"} x ${crops.length} crop${crops.length === 1 ? "" : "s"} (protocol: ${protocol.clips} x ${protocol.crops})`);
  return { views: { data, shape: [clips.length * crops.length, protocol.frames, height, width, c] }, notes };
}

/** Class logits and probabilities of a batch of views, [V, K] each. */
export interface ViewScores {
  readonly logits: HostTensor;
  readonly probabilities: HostTensor;
}

/** Softmax over the last axis. */
export function softmaxRows(t: HostTensor): HostTensor {
  const k = t.shape.at(-1)!;
  const out = new Float32Array(t.data.length);
  for (let row = 0; row < t.data.length; row += k) {
    const slice = t.data.subarray(row, row + k);
    const top = Math.max(...slice);
    let total = 0;
    for (let i = 0; i < k; i++) total += out[row + i] = Math.exp(slice[i]! - top);
    for (let i = 0; i < k; i++) out[row + i]! /= total;
  }
  return { data: out, shape: t.shape };
}

/** Both kinds of scores from a network output of either kind (see `src/ir/scores.ts`). */
export function scoresFromOutput(output: HostTensor, kind: "logits" | "probabilities"): ViewScores {
  if (kind === "logits") return { logits: output, probabilities: softmaxRows(output) };
  return { logits: { data: output.data.map(Math.log), shape: output.shape }, probabilities: output };
}

/** Averages views as the protocol says; returns one score per class and what the scores are. */
export function averageViews(scores: ViewScores, average: ViewAverage): { scores: Float32Array; kind: string } {
  const [views, classes] = scores.logits.shape as [number, number];
  const reduce = (t: HostTensor, combine: (a: number, b: number) => number, finish: (v: number) => number) => {
    const out = Float32Array.from(t.data.subarray(0, classes));
    for (let v = 1; v < views; v++) for (let k = 0; k < classes; k++) out[k] = combine(out[k]!, t.data[v * classes + k]!);
    return out.map(finish);
  };
  if (average === "logits") return { scores: softmaxRows({ data: reduce(scores.logits, (a, b) => a + b, (s) => s / views), shape: [1, classes] }).data, kind: "softmax of the mean logits" };
  if (average === "max") return { scores: reduce(scores.probabilities, Math.max, (s) => s), kind: "max probability over views" };
  return { scores: reduce(scores.probabilities, (a, b) => a + b, (s) => s / views), kind: "mean probability over views" };
}

/** The k best classes, best first. */
export function topClasses(scores: Float32Array, names: readonly string[] | undefined, k: number): { name: string; index: number; score: number }[] {
  return Array.from(scores, (score, index) => ({ name: names?.[index] ?? `class ${index}`, index, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

/** The view batch as one model input: [V, T, H, W, C], or [V, H, W, C] for image networks. */
export function viewsAsInput(views: HostTensor, inputShape: readonly number[]): HostTensor {
  const count = views.shape[0]!;
  if (product(views.shape.slice(1)) !== product(inputShape)) throw new Error(`views [${views.shape.join(", ")}] do not fit the input [${inputShape.join(", ")}]`);
  return { data: views.data, shape: [count, ...inputShape] };
}
