/**
 * RoIAlign's bilinear sampling (He et al. 2017) exactly as torchvision's `ops.roi_align` CPU
 * kernel and detectron2's ROIAlign compute it (and ONNX Runtime's `RoiAlign` with
 * `coordinate_transformation_mode` "half_pixel" / "output_half_pixel"), as a sparse linear map
 * from a feature map [N, H, W, C] to the boxes' bins [K, PH, PW, C]: output row r (box k, bin
 * ph, pw) = sum of weight x input position (n, y, x). The tfjs layer applies it with a gather and
 * a segment sum, so its gradient is the same map transposed.
 *
 * Per box [n, x1, y1, x2, y2] (input pixels): the box is scaled by `spatialScale` and, when
 * `aligned`, shifted by -0.5 (pixel centres); otherwise its width and height are at least 1.
 * Each bin averages grid_h x grid_w bilinear samples at the centres of a regular grid over it
 * (grid = `samplingRatio`, or ceil(box size / bins) when 0); a sample further than one pixel
 * outside the map counts as zero, one just outside is clamped to the border.
 */
import { perAxis } from "./geometry.js";
import type { Args } from "./values.js";

export interface RoiAlignGeometry {
  /** Output bins [PH, PW]. */
  readonly resolution: readonly [number, number];
  readonly spatialScale: number;
  /** Samples per bin and axis; 0: adaptive, ceil(box size / bins). */
  readonly samplingRatio: number;
  readonly aligned: boolean;
}

/** The feature map's batch and spatial sizes. */
export interface RoiAlignMap {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
}

/** A sparse [K x PH x PW, N x H x W] matrix: entry i adds weight[i] x input[column[i]] to output[row[i]]. */
export interface RoiAlignSamples {
  readonly rows: Int32Array;
  readonly columns: Int32Array;
  readonly weights: Float32Array;
}

/** The geometry of a `roi_align` layer from its arguments (resolution 7 unless given). */
export function roiAlignGeometry(args: Args): RoiAlignGeometry {
  const [ph, pw] = perAxis(args.resolution, 2, 7) as [number, number];
  return { resolution: [ph, pw], spatialScale: args.spatial_scale as number, samplingRatio: args.sampling_ratio as number, aligned: args.aligned !== false };
}

/**
 * The sampling map of `boxes` as a dense matrix [K x PH x PW, N x H x W] (row-major): RoIAlign is
 * this matrix times the map's positions [N x H x W, C], and its gradient the transpose's product.
 */
export function roiAlignMatrix(boxes: ArrayLike<number>, map: RoiAlignMap, geometry: RoiAlignGeometry): Float32Array {
  const samples = roiAlignSamples(boxes, map, geometry);
  const [ph, pw] = geometry.resolution;
  const columns = map.batch * map.height * map.width;
  const matrix = new Float32Array(Math.floor(boxes.length / 5) * ph * pw * columns);
  for (let i = 0; i < samples.rows.length; i++) matrix[samples.rows[i]! * columns + samples.columns[i]!]! += samples.weights[i]!;
  return matrix;
}

/** Thrown for a box whose batch index is not a clip of the batch. */
export class RoiAlignBoxError extends Error {}

/**
 * The sampling map of `boxes` (K rows of 5 numbers, row-major) over a map of `map`'s size.
 * Weights of one (row, column) pair are merged, so every pair appears once.
 */
export function roiAlignSamples(boxes: ArrayLike<number>, map: RoiAlignMap, geometry: RoiAlignGeometry): RoiAlignSamples {
  const { batch, height, width } = map;
  const [ph, pw] = geometry.resolution;
  const count = Math.floor(boxes.length / 5);
  const rows: number[] = [];
  const columns: number[] = [];
  const weights: number[] = [];
  const offset = geometry.aligned ? 0.5 : 0;
  for (let k = 0; k < count; k++) {
    const n = boxes[k * 5]!;
    if (!Number.isInteger(n) || n < 0 || n >= batch)
      throw new RoiAlignBoxError(`box ${k} has batch index ${n}; the batch holds ${batch} clip${batch === 1 ? "" : "s"} (0 to ${batch - 1})`);
    const startW = boxes[k * 5 + 1]! * geometry.spatialScale - offset;
    const startH = boxes[k * 5 + 2]! * geometry.spatialScale - offset;
    let roiW = boxes[k * 5 + 3]! * geometry.spatialScale - offset - startW;
    let roiH = boxes[k * 5 + 4]! * geometry.spatialScale - offset - startH;
    if (!geometry.aligned) {
      roiW = Math.max(roiW, 1);
      roiH = Math.max(roiH, 1);
    }
    const binH = roiH / ph;
    const binW = roiW / pw;
    const gridH = geometry.samplingRatio > 0 ? geometry.samplingRatio : Math.ceil(roiH / ph);
    const gridW = geometry.samplingRatio > 0 ? geometry.samplingRatio : Math.ceil(roiW / pw);
    const norm = 1 / Math.max(gridH * gridW, 1);
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++) {
        const row = (k * ph + i) * pw + j;
        const merged = new Map<number, number>();
        const add = (y: number, x: number, w: number) => {
          if (w === 0) return;
          const column = (n * height + y) * width + x;
          merged.set(column, (merged.get(column) ?? 0) + w * norm);
        };
        for (let iy = 0; iy < gridH; iy++) {
          const yy = startH + i * binH + ((iy + 0.5) * binH) / gridH;
          for (let ix = 0; ix < gridW; ix++) {
            const xx = startW + j * binW + ((ix + 0.5) * binW) / gridW;
            bilinear(yy, xx, height, width, add);
          }
        }
        for (const [column, w] of merged) {
          rows.push(row);
          columns.push(column);
          weights.push(w);
        }
      }
    }
  }
  return { rows: Int32Array.from(rows), columns: Int32Array.from(columns), weights: Float32Array.from(weights) };
}

/** torchvision's `bilinear_interpolate`: the four neighbours of (y, x) and their weights. */
function bilinear(y: number, x: number, height: number, width: number, add: (y: number, x: number, w: number) => void): void {
  if (y < -1 || y > height || x < -1 || x > width) return;
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let yLow = Math.floor(y);
  let xLow = Math.floor(x);
  let yHigh: number;
  let xHigh: number;
  if (yLow >= height - 1) {
    yHigh = yLow = height - 1;
    y = yLow;
  } else yHigh = yLow + 1;
  if (xLow >= width - 1) {
    xHigh = xLow = width - 1;
    x = xLow;
  } else xHigh = xLow + 1;
  const ly = y - yLow;
  const lx = x - xLow;
  const hy = 1 - ly;
  const hx = 1 - lx;
  add(yLow, xLow, hy * hx);
  add(yLow, xHigh, hy * lx);
  add(yHigh, xLow, ly * hx);
  add(yHigh, xHigh, ly * lx);
}
