/**
 * The inputs of an exported model: the IR graph's inputs. The graph computes every stream it can
 * itself (frame selection, subsampling, normalisation are IR nodes), so deployments feed the raw
 * clip, channels-last [N, T, H, W, C] with values in [0, 1], exactly as vnet's data pipeline holds
 * it. A stream the graph cannot compute (optical flow) is an input of its own, named after the
 * stream, with the raw input it comes from and the pipeline operators that compute it.
 */
import type { IrGraph, PipelineStep } from "../../ir/graph.js";
import type { EmitState } from "./emit.js";
import { BATCH, BOX_ROWS, channelsLast, dimsIn, type Value } from "./layout.js";

export interface OnnxInput {
  /** The ONNX input's name: a raw input's (`video`) or an external stream's (`flow`). */
  readonly name: string;
  /** "raw": a clip or image in [0, 1]; "stream": computed by the data pipeline. */
  readonly kind: "raw" | "stream";
  /** Without batch, channels-last. */
  readonly shape: readonly number[];
  /** For a stream: the raw input it is computed from and its operators. */
  readonly from?: string;
  readonly pipeline?: readonly PipelineStep[];
  /** A detector's `boxes()` input: K rows [batch index, x1, y1, x2, y2], not N. */
  readonly boxes?: true;
}

/** The exported model's inputs: the graph's, in order. */
export function onnxInputs(graph: IrGraph): OnnxInput[] {
  return graph.inputs.map((i) => ({
    name: i.name,
    kind: i.kind ?? "raw",
    shape: i.shape,
    ...(i.kind === "stream" ? { from: i.from!, pipeline: i.pipeline! } : {}),
    ...(i.boxes ? { boxes: true as const } : {}),
  }));
}

/** Declares the graph inputs (channels-last, batch symbolic); returns each input node's value. */
export function emitInputs(state: EmitState, graph: IrGraph): Map<number, Value> {
  const values = new Map<number, Value>();
  for (const input of graph.inputs) {
    const order = channelsLast(input.shape.length + 1);
    values.set(input.node, { name: state.graph.input(input.name, dimsIn(input.shape, order, input.boxes ? BOX_ROWS : BATCH)), order, shape: input.shape });
  }
  return values;
}
