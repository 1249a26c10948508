/**
 * Replacements for kernels of the wasm backend (tfjs-backend-wasm 4.22) that compute wrong
 * results: MaxPoolGrad and MaxPool3DGrad route the gradient to the wrong positions whenever the
 * batch or channel count exceeds one (found by comparing every tiny spec's gradients with the cpu
 * backend's; test/wasm.test.ts keeps checking). The replacements run in JavaScript on the wasm
 * heap; a max-pool gradient is one pass over the input, cheap beside the convolutions. Conv3D's
 * gradients, also wrong there, never run: vnet's conv layer computes a 3D conv on wasm as 2D convs
 * (`conv3dAsConv2d`).
 */
import * as tf from "@tensorflow/tfjs";

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

interface PoolGeometry {
  readonly batch: number;
  readonly channels: number;
  /** Input extent [depth, height, width] (depth 1 for 2D). */
  readonly input: readonly [number, number, number];
  readonly output: readonly [number, number, number];
  readonly window: readonly [number, number, number];
  readonly stride: readonly [number, number, number];
  /** Padding before each axis. */
  readonly pad: readonly [number, number, number];
}

/**
 * The gradient of a max pool: each output's gradient goes to the first position holding its
 * window's maximum (row-major within the window, as the cpu backend and PyTorch choose).
 */
export function maxPoolGradient(x: Float32Array, dy: Float32Array, g: PoolGeometry): Float32Array {
  const dx = new Float32Array(x.length);
  const [D, H, W] = g.input;
  const [OD, OH, OW] = g.output;
  const C = g.channels;
  for (let n = 0; n < g.batch; n++) {
    for (let od = 0; od < OD; od++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const outBase = (((n * OD + od) * OH + oh) * OW + ow) * C;
          for (let c = 0; c < C; c++) {
            let best = -Infinity;
            let where = -1;
            for (let kd = 0; kd < g.window[0]; kd++) {
              const d = od * g.stride[0] - g.pad[0] + kd;
              if (d < 0 || d >= D) continue;
              for (let kh = 0; kh < g.window[1]; kh++) {
                const h = oh * g.stride[1] - g.pad[1] + kh;
                if (h < 0 || h >= H) continue;
                for (let kw = 0; kw < g.window[2]; kw++) {
                  const w = ow * g.stride[2] - g.pad[2] + kw;
                  if (w < 0 || w >= W) continue;
                  const index = (((n * D + d) * H + h) * W + w) * C + c;
                  const value = x[index]!;
                  if (value > best || where < 0) ((best = value), (where = index));
                }
              }
            }
            if (where >= 0) dx[where] += dy[outBase + c]!;
          }
        }
      }
    }
  }
  return dx;
}

type Attrs = { filterSize: number | number[]; strides: number | number[]; pad: "same" | "valid" | number; dimRoundingMode?: "floor" | "round" | "ceil" };

function kernel(rank: 2 | 3): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as unknown as WasmBackend;
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const a = attrs as unknown as Attrs;
    let geometry: PoolGeometry;
    if (rank === 2) {
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        a.filterSize as number,
        a.strides as number,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      geometry = {
        batch: info.batchSize,
        channels: info.inChannels,
        input: [1, info.inHeight, info.inWidth],
        output: [1, info.outHeight, info.outWidth],
        window: [1, info.filterHeight, info.filterWidth],
        stride: [1, info.strideHeight, info.strideWidth],
        pad: [0, info.padInfo.top, info.padInfo.left],
      };
    } else {
      const info = tf.backend_util.computePool3DInfo(
        input.shape as [number, number, number, number, number],
        a.filterSize as number,
        a.strides as number,
        1,
        a.pad as "same" | "valid" | number,
        a.dimRoundingMode,
      );
      geometry = {
        batch: info.batchSize,
        channels: info.inChannels,
        input: [info.inDepth, info.inHeight, info.inWidth],
        output: [info.outDepth, info.outHeight, info.outWidth],
        window: [info.filterDepth, info.filterHeight, info.filterWidth],
        stride: [info.strideDepth, info.strideHeight, info.strideWidth],
        pad: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
      };
    }
    const dx = maxPoolGradient(wasm.typedArrayFromHeap(input), wasm.typedArrayFromHeap(dy), geometry);
    const out = wasm.makeOutput(input.shape, "float32");
    wasm.typedArrayFromHeap(out).set(dx);
    return out;
  };
}

let installed = false;

/** Swaps the wasm backend's broken max-pool gradient kernels for correct ones (idempotent). */
export function installWasmKernelFixes(): void {
  if (installed || !tf.getKernel("MaxPoolGrad", "wasm")) return;
  installed = true;
  for (const [name, rank] of [
    ["MaxPoolGrad", 2],
    ["MaxPool3DGrad", 3],
  ] as const) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: kernel(rank) });
  }
}
