/**
 * Checks an import: the tfjs model with imported weights and ONNX Runtime on the source file run
 * the same seeded input and their outputs are compared. vnet's model is fed the raw clip (values
 * in [0, 1]) and computes its streams in the graph; a model exported by another framework takes
 * the tensors the spec's own layers read (its model inputs: the normalised clip, say, which is how
 * PyTorch's video models are exported). So the tfjs model also returns its model inputs' values,
 * and those are what ONNX Runtime is fed (transposed to channels-first). The batch is the file's
 * own when it records a fixed one (`torch.onnx.export` without dynamic axes: 1), else 2.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import type { OnnxModel } from "../backends/onnx/read.js";
import { seededRandom } from "../data/motion.js";
import type { IrGraph } from "../ir/graph.js";

export interface ParityResult {
  /** Largest |tfjs - ONNX Runtime| over every output value. */
  readonly maxAbsDiff: number;
  /** Largest |ONNX Runtime output|, to judge the difference against. */
  readonly maxAbs: number;
  readonly outputShape: readonly number[];
  /** The batch both ran. */
  readonly batch: number;
}

/** [N, ...S, C] -> [N, C, ...S]. */
function channelsFirst(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  return tf.transpose(x, [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)]);
}

/** The batch the ONNX file was exported with, when its inputs fix one (else undefined: dynamic). */
export function fixedBatch(file: OnnxModel): number | undefined {
  const batches = file.inputs.map((i) => i.shape[0]).filter((d): d is number => d !== undefined);
  return batches.length ? batches[0] : undefined;
}

/**
 * Runs the graph's tfjs model (built with the imported weights) and ONNX Runtime on `bytes` (the
 * file `file` describes) on the same seeded raw input; a string says why they cannot be compared.
 */
export async function onnxParity(
  bytes: Uint8Array,
  file: OnnxModel,
  graph: IrGraph,
  model: tf.LayersModel,
  options: { seed?: number } = {},
): Promise<ParityResult | string> {
  if (file.inputs.length !== graph.modelInputs.length)
    return `the ONNX model has ${file.inputs.length} inputs, ${graph.name} reads ${graph.modelInputs.length}`;
  if (file.outputs.length !== 1 || model.outputs.length !== 1) return "only single-output models are compared";
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  } catch (error) {
    return `ONNX Runtime cannot load the file: ${(error as Error).message.split("\n")[0]}`;
  }
  try {
    const batch = fixedBatch(file) ?? 2;
    const random = seededRandom(options.seed ?? 7);
    const raw = model.inputs.map((input) => {
      const shape = [batch, ...(input.shape.slice(1) as number[])];
      return tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random()),
        shape,
      );
    });
    // The values the spec's layers read (its model inputs), then the output.
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const probe = tf.model({
      inputs: model.inputs,
      outputs: [...graph.modelInputs.map((i) => model.getLayer(byId.get(i.node)!.name).output as tf.SymbolicTensor), model.outputs[0]!],
    });
    const values = probe.predict(raw.length === 1 ? raw[0]! : raw) as tf.Tensor[];
    tf.dispose(raw);
    const ours = values.pop()!;
    const feeds: Record<string, ort.Tensor> = {};
    values.forEach((x, k) => {
      const first = channelsFirst(x);
      feeds[file.inputs[k]!.name] = new ort.Tensor("float32", first.dataSync() as Float32Array, first.shape);
      first.dispose();
    });
    tf.dispose(values);
    let reference: ort.Tensor;
    try {
      reference = (await session.run(feeds))[session.outputNames[0]!]!;
    } catch (error) {
      return `ONNX Runtime cannot run the file on inputs [${Object.values(feeds)
        .map((t) => t.dims.join(", "))
        .join("], [")}]: ${(error as Error).message.split("\n")[0]}`;
    }
    const oursFirst = ours.rank > 2 ? channelsFirst(ours) : ours;
    const shape = oursFirst.shape;
    const got = oursFirst.dataSync();
    tf.dispose([ours, oursFirst]);
    const expected = reference.data as Float32Array;
    if (reference.dims.join() !== shape.join()) return `the ONNX output is [${reference.dims.join(", ")}], the tfjs output [${shape.join(", ")}]`;
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < expected.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i]! - expected[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]!));
    }
    return { maxAbsDiff, maxAbs, outputShape: shape, batch };
  } finally {
    await session.release();
  }
}
