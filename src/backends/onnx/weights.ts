/**
 * Weights for the ONNX exporter: the `WeightSource` they come through (vnet's weight store,
 * src/weights, holds a checkpoint's or a fresh model's) and how vnet's Keras-layout weights become
 * ONNX's layouts. Initializers keep the IR's weight names
 * (`layer2.0.conv1.conv3d.kernel`); only their layout changes:
 * - conv kernels [k..., in / groups, out] -> [out, in / groups, k...];
 * - LSTM kernels [in, 4U] (Keras gates i, f, c, o) -> W [1, 4U, in] in ONNX's gate order i, o, f, c;
 *   recurrent kernels likewise; the bias [4U] -> [1, 8U] (input bias, then a zero recurrent bias);
 * - GRU weights as LSTM's, but both use the gate order z, r, h, so only the layout changes;
 * - dense kernels [in, out] stay as they are (MatMul / Gemm without transposition), and so do
 *   biases and batch-norm parameters and statistics.
 * A weight that is missing or has another shape is a located diagnostic (VN082, `checkWeights`
 * of src/ir/weights.ts).
 */
/** The weights' source, defined with the IR's weight declarations (src/ir/weights.ts). */
export type { WeightSource } from "../../ir/weights.js";

/** A row-major array and its shape. */
export interface HostArray {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Transposes a row-major array: output axis i is input axis perm[i]. */
export function transposeArray(data: Float32Array, dims: readonly number[], perm: readonly number[]): HostArray {
  const outDims = perm.map((p) => dims[p]!);
  // Input axes that stay neighbours in the output move as one: conv kernels become [K, I, O] -> [O, I, K].
  const groups: number[][] = [];
  for (const p of perm) {
    const last = groups.at(-1);
    if (last && last.at(-1)! + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const size = (g: readonly number[]) => g.reduce((n, a) => n * dims[a]!, 1);
  const inStride = (g: readonly number[]) => dims.slice(g.at(-1)! + 1).reduce((a, b) => a * b, 1);
  const sizes = groups.map(size);
  const inStrides = groups.map(inStride);
  const outStrides = sizes.map((_, i) => sizes.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  // Tiles over the output's innermost group (contiguous writes) and the input's (contiguous reads).
  const p = groups.length - 1;
  const q = inStrides.indexOf(1);
  const outer = groups.map((_, i) => i).filter((i) => i !== p && i !== q);
  const index = new Array<number>(outer.length).fill(0);
  const tile = 64;
  for (let done = false; !done; ) {
    let baseIn = 0;
    let baseOut = 0;
    outer.forEach((g, i) => {
      baseIn += index[i]! * inStrides[g]!;
      baseOut += index[i]! * outStrides[g]!;
    });
    if (p === q) out.set(data.subarray(baseIn, baseIn + sizes[p]!), baseOut);
    else {
      const [nx, ny, ox, iy] = [sizes[q]!, sizes[p]!, outStrides[q]!, inStrides[p]!];
      for (let x0 = 0; x0 < nx; x0 += tile) {
        for (let y0 = 0; y0 < ny; y0 += tile) {
          const [xEnd, yEnd] = [Math.min(nx, x0 + tile), Math.min(ny, y0 + tile)];
          for (let x = x0; x < xEnd; x++) {
            const o = baseOut + x * ox;
            const i = baseIn + x;
            for (let y = y0; y < yEnd; y++) out[o + y] = data[i + y * iy]!;
          }
        }
      }
    }
    done = true;
    for (let i = outer.length - 1; i >= 0; i--) {
      if (++index[i]! < sizes[outer[i]!]!) {
        done = false;
        break;
      }
      index[i] = 0;
    }
  }
  return { data: out, dims: outDims };
}

/** A conv kernel [k..., in, out] as ONNX's [out, in, k...]. */
export function convKernel(data: Float32Array, dims: readonly number[]): HostArray {
  const r = dims.length;
  return transposeArray(data, dims, [r - 1, r - 2, ...Array.from({ length: r - 2 }, (_, i) => i)]);
}

/** An ONNX conv kernel [out, in, k...] back in vnet's layout [k..., in, out] (the inverse of `convKernel`). */
export function kerasConvKernel(data: Float32Array, dims: readonly number[]): HostArray {
  const r = dims.length;
  return transposeArray(data, dims, [...Array.from({ length: r - 2 }, (_, i) => i + 2), 1, 0]);
}

/**
 * A weight layout that can go both ways: what a training step needs for the weights it keeps in
 * ONNX's layout between steps and writes back to vnet's checkpoints.
 */
export interface ReversibleLayout {
  readonly name: string;
  readonly toOnnx: (data: Float32Array, dims: readonly number[]) => HostArray;
  readonly fromOnnx: (data: Float32Array, dims: readonly number[]) => HostArray;
  /** The ONNX dims of a weight with vnet's dims `dims`. */
  readonly onnxDims: (dims: readonly number[]) => number[];
}

/** Conv kernels: [k..., in, out] <-> [out, in, k...]. */
export const CONV_KERNEL_LAYOUT: ReversibleLayout = {
  name: "conv-kernel",
  toOnnx: convKernel,
  fromOnnx: kerasConvKernel,
  onnxDims: (dims) => [dims[dims.length - 1]!, dims[dims.length - 2]!, ...dims.slice(0, -2)],
};

/** The reversible layout of an emitter's weight conversion (undefined for one that has none, e.g. the recurrent gate reordering). */
export function reversibleLayout(convert: (data: Float32Array, dims: readonly number[]) => HostArray): ReversibleLayout | undefined {
  return convert === convKernel ? CONV_KERNEL_LAYOUT : undefined;
}

/** Keras gate blocks in ONNX's order: LSTM i, o, f, c from Keras i, f, c, o; GRU z, r, h unchanged. */
const GATE_ORDER: Readonly<Record<"lstm" | "gru", readonly number[]>> = { lstm: [0, 3, 1, 2], gru: [0, 1, 2] };

/** A recurrent (or input) kernel [in, gates * U] as ONNX's [1, gates * U, in], gates reordered. */
export function recurrentMatrix(cell: "lstm" | "gru", data: Float32Array, dims: readonly number[]): HostArray {
  const t = transposeArray(data, dims, [1, 0]);
  const order = GATE_ORDER[cell];
  const width = dims[0]!;
  const units = dims[1]! / order.length;
  const out = new Float32Array(t.data.length);
  order.forEach((from, to) => out.set(t.data.subarray(from * units * width, (from + 1) * units * width), to * units * width));
  return { data: out, dims: [1, dims[1]!, width] };
}

/** A recurrent bias [gates * U] as ONNX's [1, 2 * gates * U]: the input bias reordered, a zero recurrent bias. */
export function recurrentBias(cell: "lstm" | "gru", data: Float32Array): HostArray {
  const order = GATE_ORDER[cell];
  const units = data.length / order.length;
  const out = new Float32Array(2 * data.length);
  order.forEach((from, to) => out.set(data.subarray(from * units, (from + 1) * units), to * units));
  return { data: out, dims: [1, out.length] };
}
