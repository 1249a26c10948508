/**
 * Checks an import: the tfjs model with imported weights and ONNX Runtime on the source file get
 * the same seeded random input (channels-last for tfjs, transposed to channels-first for ONNX) and
 * their outputs are compared. vnet's model inputs are what its data pipeline computes, so the
 * ONNX model's inputs must be the same tensors (a normalised clip, say), which is how PyTorch's
 * video models are exported.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { seededRandom } from "../data/motion.js";

export interface ParityResult {
  /** Largest |tfjs - ONNX Runtime| over every output value. */
  readonly maxAbsDiff: number;
  /** Largest |ONNX Runtime output|, to judge the difference against. */
  readonly maxAbs: number;
  readonly outputShape: readonly number[];
}

/** [N, ...S, C] -> [N, C, ...S]. */
function channelsFirst(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  return tf.transpose(x, [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)]);
}

/** Runs both on `batch` seeded random inputs in [-2, 2]; a string says why they cannot be compared. */
export async function onnxParity(onnxFile: string, model: tf.LayersModel, options: { seed?: number; batch?: number } = {}): Promise<ParityResult | string> {
  const session = await ort.InferenceSession.create(onnxFile);
  try {
    if (session.inputNames.length !== model.inputs.length) return `the ONNX model has ${session.inputNames.length} inputs, the tfjs model ${model.inputs.length}`;
    if (session.outputNames.length !== 1 || model.outputs.length !== 1) return "only single-output models are compared";
    const random = seededRandom(options.seed ?? 7);
    const batch = options.batch ?? 2;
    const inputs = model.inputs.map((input) => {
      const shape = [batch, ...(input.shape.slice(1) as number[])];
      const size = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(Float32Array.from({ length: size }, () => 4 * random() - 2), shape);
    });
    const feeds: Record<string, ort.Tensor> = {};
    inputs.forEach((x, k) => {
      const first = channelsFirst(x);
      feeds[session.inputNames[k]!] = new ort.Tensor("float32", first.dataSync() as Float32Array, first.shape);
      first.dispose();
    });
    const reference = (await session.run(feeds))[session.outputNames[0]!]!;
    const ours = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
    tf.dispose(inputs);
    const oursFirst = ours.rank > 2 ? channelsFirst(ours) : ours;
    const shape = oursFirst.shape;
    const values = oursFirst.dataSync();
    tf.dispose([ours, oursFirst]);
    const expected = reference.data as Float32Array;
    if (reference.dims.join() !== shape.join()) return `the ONNX output is [${reference.dims.join(", ")}], the tfjs output [${shape.join(", ")}]`;
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < expected.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(values[i]! - expected[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]!));
    }
    return { maxAbsDiff, maxAbs, outputShape: shape };
  } finally {
    await session.release();
  }
}
