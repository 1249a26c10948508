/**
 * Grad-CAM pictures: heat maps in viridis, alpha-blended over the frames the network saw
 * (PySlowFast and MMAction2: alpha x heat map + (1 - alpha) x frame, alpha 0.5), as
 * - a PNG contact sheet: per view and map, three rows (input, map, overlay) over the clip's frames;
 * - an MP4 (ffmpeg, through the data pipeline's encoder) or GIF (gifenc) of the overlays, one
 *   tile per view and map, playing the clip.
 * Pictures are composed as SVG (labels as text, tiles as embedded PNGs) and rasterised by resvg.
 */
import * as gifenc from "gifenc";
import { encodeVideo } from "../../data/video/encode.js";
import { viridis } from "../colormap.js";
import { encodePng, enlarge, pngDataUri, type RgbImage } from "../raster.js";
import { rasterize, svgToPng } from "../svg.js";
import type { CamMap } from "./compute.js";
import type { Explanation } from "./explain.js";

export interface CamPictureOptions {
  /** Heat map weight in the blend (default 0.5). */
  readonly alpha?: number;
  /** Class names for the labels. */
  readonly classNames?: readonly string[];
  /** What the video is, for the title (a file name). */
  readonly title?: string;
  /** The video's true class, when known. */
  readonly trueLabel?: number;
}

/** The most frame columns a contact sheet shows (evenly spaced over the clip). */
const MAX_COLUMNS = 16;
const GAP = 4;
const LABEL = 92;
const FONT = `font-family="sans-serif"`;

/** The map step shown at raw clip frame `frame`: the last step whose frame is not after it. */
function stepAt(stepFrames: readonly number[], steps: number, frame: number): number {
  if (steps === 1) return 0;
  let k = 0;
  for (let i = 0; i < steps; i++) if (stepFrames[i]! <= frame) k = i;
  return k;
}

/** Frame `t` of a clip [T, H, W, 3]. */
function frameOf(clip: Float32Array, shape: Explanation["clipShape"], t: number): RgbImage {
  const [, h, w] = shape;
  return { width: w, height: h, data: clip.subarray(t * h * w * 3, (t + 1) * h * w * 3) };
}

/** One step of a map in viridis. */
function heatImage(map: CamMap, step: number): RgbImage {
  const plane = map.height * map.width;
  const data = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) viridis(map.values[step * plane + p]!, data, p * 3);
  return { width: map.width, height: map.height, data };
}

/** alpha x heat + (1 - alpha) x frame. */
function blend(heat: RgbImage, frame: RgbImage, alpha: number): RgbImage {
  const data = new Float32Array(heat.data.length);
  for (let i = 0; i < data.length; i++) data[i] = alpha * heat.data[i]! + (1 - alpha) * frame.data[i]!;
  return { width: heat.width, height: heat.height, data };
}

/** The blended frame of one map at raw clip frame `t`. */
export function overlayAt(explanation: Explanation, view: number, map: number, t: number, alpha = 0.5): RgbImage {
  const m = explanation.views[view]!.maps[map]!;
  const step = stepAt(explanation.frames[map]!.frames, m.steps, t);
  return blend(heatImage(m, step), frameOf(explanation.views[view]!.clip, explanation.clipShape, t), alpha);
}

/** Raw clip frames a map's columns show: its stream's frames (all of a stack's), at most MAX_COLUMNS. */
function columnsOf(explanation: Explanation, map: number): number[] {
  const stream = explanation.frames[map]!;
  const frames = stream.hasTime ? stream.frames : stream.covers;
  if (frames.length <= MAX_COLUMNS) return [...frames];
  return Array.from({ length: MAX_COLUMNS }, (_, i) => frames[Math.round((i * (frames.length - 1)) / (MAX_COLUMNS - 1))]!);
}

const name = (names: readonly string[] | undefined, k: number) => names?.[k] ?? `class ${k}`;
const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** What the pictures explain, in words: the class, the prediction, the true class. */
export function explanationTitle(explanation: Explanation, options: CamPictureOptions = {}): string {
  const names = options.classNames;
  const score = explanation.scores[explanation.predicted]!;
  const parts = [`${explanation.network}${options.title ? ` on ${options.title}` : ""}: Grad-CAM of class \`${name(names, explanation.classIndex)}\``];
  parts.push(
    `predicted \`${name(names, explanation.predicted)}\` (${score.toFixed(3)}, ${explanation.scoreKind} over ${explanation.protocolViews} view${explanation.protocolViews === 1 ? "" : "s"})`,
  );
  if (options.trueLabel !== undefined)
    parts.push(`true \`${name(names, options.trueLabel)}\` (${options.trueLabel === explanation.predicted ? "right" : "wrong"})`);
  return parts.join(", ");
}

/** One (view, map) block's heading. */
function blockTitle(explanation: Explanation, view: number, map: number): string {
  const target = explanation.targets[map]!;
  const m = explanation.views[view]!.maps[map]!;
  const shape = target.node.shape;
  const time =
    target.layout === "NHWC"
      ? "one map for the clip (no time axis)"
      : `${target.steps} time step${target.steps === 1 ? "" : "s"}${m.steps !== target.steps ? `, upsampled to ${m.steps}` : ""}`;
  return `view ${explanation.viewIndices[view]! + 1} of ${explanation.protocolViews} · stream ${target.input} · layer ${target.node.name} [${target.layout === "(NT)HWC" ? `${target.steps} frames x ` : ""}${shape.join("x")}] · ${time}`;
}

/** Enlargement that makes a tile at least `min` pixels tall. */
function factorFor(height: number, min: number): number {
  return Math.max(1, Math.ceil(min / height));
}

/** The contact sheet as SVG (tiles embedded as PNG). */
export function contactSheetSvg(explanation: Explanation, options: CamPictureOptions = {}): string {
  const alpha = options.alpha ?? 0.5;
  const [, h, w] = explanation.clipShape;
  const factor = factorFor(h, 96);
  const tw = w * factor;
  const th = h * factor;
  const blocks: string[] = [];
  let y = 34;
  let width = 0;
  explanation.views.forEach((view, v) => {
    view.maps.forEach((map, k) => {
      const columns = columnsOf(explanation, k);
      const stream = explanation.frames[k]!;
      width = Math.max(width, LABEL + columns.length * (tw + GAP));
      blocks.push(`<text x="4" y="${y + 13}" font-size="13" font-weight="bold" ${FONT}>${esc(blockTitle(explanation, v, k))}</text>`);
      y += 32;
      const rows: [string, (t: number) => RgbImage][] = [
        ["input", (t) => frameOf(view.clip, explanation.clipShape, t)],
        ["Grad-CAM", (t) => heatImage(map, stepAt(stream.frames, map.steps, t))],
        ["overlay", (t) => overlayAt(explanation, v, k, t, alpha)],
      ];
      for (const [label, image] of rows) {
        blocks.push(`<text x="4" y="${y + th / 2 + 4}" font-size="12" ${FONT}>${label}</text>`);
        columns.forEach((t, c) => {
          const x = LABEL + c * (tw + GAP);
          blocks.push(`<image x="${x}" y="${y}" width="${tw}" height="${th}" href="${pngDataUri(encodePng(enlarge(image(t), factor)))}"/>`);
          if (label === "input") blocks.push(`<text x="${x + 2}" y="${y - 3}" font-size="10" fill="#555" ${FONT}>frame ${t}</text>`);
        });
        y += th + GAP;
      }
      y += 10;
    });
  });
  width = Math.max(width, 640);
  const title = `<text x="4" y="20" font-size="14" ${FONT}>${esc(explanationTitle(explanation, options))}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}"><rect width="100%" height="100%" fill="white"/>${title}${blocks.join("")}</svg>`;
}

/** The contact sheet as PNG bytes. */
export function contactSheetPng(explanation: Explanation, options: CamPictureOptions = {}): Buffer {
  return svgToPng(contactSheetSvg(explanation, options), { pixelated: true });
}

/** The video frames: per raw clip frame, every view's and map's overlay as a tile with its label; RGBA. */
export function camVideoFrames(explanation: Explanation, options: CamPictureOptions = {}): { width: number; height: number; frames: Uint8Array[] } {
  const alpha = options.alpha ?? 0.5;
  const [T, h, w] = explanation.clipShape;
  const factor = factorFor(h, 160);
  const tw = w * factor;
  const th = h * factor;
  const cells = explanation.views.flatMap((_, v) => explanation.views[v]!.maps.map((_, k) => [v, k] as const));
  const perRow = Math.max(1, Math.min(cells.length, Math.floor(1280 / (tw + GAP))));
  const labelHeight = 30;
  const rows = Math.ceil(cells.length / perRow);
  // Even sizes, as yuv420p video needs.
  const width = Math.ceil((perRow * (tw + GAP) + GAP) / 2) * 2;
  const height = Math.ceil((28 + rows * (th + labelHeight + GAP)) / 2) * 2;
  const title = `<text x="${GAP}" y="18" font-size="13" ${FONT}>${esc(explanationTitle(explanation, options))}</text>`;
  const frames: Uint8Array[] = [];
  for (let t = 0; t < T; t++) {
    const tiles = cells.map(([v, k], i) => {
      const x = GAP + (i % perRow) * (tw + GAP);
      const y = 28 + Math.floor(i / perRow) * (th + labelHeight + GAP);
      const target = explanation.targets[k]!;
      const label = `view ${explanation.viewIndices[v]! + 1} · ${target.input} · ${target.node.name}`;
      return `<text x="${x}" y="${y + 12}" font-size="11" ${FONT}>${esc(label)}</text><text x="${x}" y="${y + 25}" font-size="10" fill="#555" ${FONT}>frame ${t + 1} of ${T}</text><image x="${x}" y="${y + labelHeight}" width="${tw}" height="${th}" href="${pngDataUri(encodePng(enlarge(overlayAt(explanation, v, k, t, alpha), factor)))}"/>`;
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/>${title}${tiles.join("")}</svg>`;
    frames.push(rasterize(svg).pixels);
  }
  return { width, height, frames };
}

/** The overlays as a GIF (one palette per frame), `fps` frames a second. */
export function camGif(explanation: Explanation, fps: number, options: CamPictureOptions = {}): Buffer {
  // Node loads the CommonJS build (its exports under `default`), bundlers the ES module.
  const { GIFEncoder, quantize, applyPalette } = typeof gifenc.GIFEncoder === "function" ? gifenc : gifenc.default;
  const { width, height, frames } = camVideoFrames(explanation, options);
  const gif = GIFEncoder();
  for (const rgba of frames) {
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay: Math.round(1000 / fps) });
  }
  gif.finish();
  return Buffer.from(gif.bytes());
}

/** The overlays as an MP4 video (written atomically by the data pipeline's encoder). */
export async function writeCamMp4(file: string, explanation: Explanation, fps: number, options: CamPictureOptions = {}): Promise<void> {
  const { width, height, frames } = camVideoFrames(explanation, options);
  const rgb = new Float32Array(frames.length * width * height * 3);
  frames.forEach((rgba, f) => {
    const base = f * width * height * 3;
    for (let p = 0; p < width * height; p++) {
      rgb[base + p * 3] = rgba[p * 4]! / 255;
      rgb[base + p * 3 + 1] = rgba[p * 4 + 1]! / 255;
      rgb[base + p * 3 + 2] = rgba[p * 4 + 2]! / 255;
    }
  });
  await encodeVideo(file, rgb, { width, height, fps });
}
