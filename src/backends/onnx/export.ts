/**
 * From a lowered IR graph and its weights to an ONNX model (opset 17, IR version 8): support,
 * output and weight checks first (located diagnostics), then the inputs, the emitter table, the
 * outputs with a dynamic batch dimension (`logits` and `probabilities` for a classifier, the
 * task's outputs for other tasks: a localizer's `start`, `end`, `confidence`), and the metadata.
 * The graph is the whole contract (task, streams, protocol, class names, weight names); weights
 * come through a `WeightSource`. Initializers carry the IR's weight names.
 */
import type { Code } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { IrGraph } from "../../ir/graph.js";
import { PIPELINE } from "../../ir/pipeline.js";
import { outputScores } from "../../ir/scores.js";
import { checkWeights, type WeightSource } from "../../ir/weights.js";
import { taskContract, type TaskName } from "../../semantics/tasks/index.js";
import { vnetVersion } from "../../version.js";
import { attr, GraphBuilder } from "./builder.js";
import { checkOnnxSupport, emitNode, emitterFor, type EmitState } from "./emit.js";
import { emitInputs, onnxInputs, type OnnxInput } from "./inputs.js";
import { Arranger, BATCH, BOX_ROWS, channelsLast, type Value } from "./layout.js";
import { onnxMetadata } from "./metadata.js";

/**
 * The opset the exporter targets. 17 is the newest whose reductions still take `axes` as an
 * attribute; ONNX Runtime 1.23 runs it, as do older runtimes down to 1.12.
 */
export const ONNX_OPSET = 17;

/** Diagnostic code for a network whose outputs cannot become `logits` and `probabilities`. */
export const ONNX_OUTPUTS: Code = "VN081";

export interface OnnxExportOptions {
  readonly weights: WeightSource;
  /** The checked source texts by file (`programSources(checkResult)`), hashed into the metadata. */
  readonly sources: ReadonlyMap<string, string>;
}

export interface OnnxExportResult {
  /** The model file's bytes; absent when diagnostics say why it cannot be exported. */
  readonly bytes?: Uint8Array;
  readonly diagnostics: readonly Diagnostic[];
  readonly inputs: readonly OnnxInput[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Number of ONNX nodes. */
  readonly nodes: number;
}

/** The names of the exported model's outputs. */
export const LOGITS = "logits";
export const PROBABILITIES = "probabilities";

/** The exported model's outputs: `logits` and `probabilities` for a classifier, else the task's own outputs. */
function outputNames(graph: IrGraph): readonly string[] {
  return graph.task === "classification" || graph.task === "detection" ? [LOGITS, PROBABILITIES] : taskContract(graph.task).outputs.map((o) => o.name);
}

/**
 * A classifier must have one class-score output to export (or train) as one ONNX model; other
 * tasks' outputs are held to their contracts by the checker, and each becomes an output.
 */
export function checkOutputs(graph: IrGraph, task: TaskName = "classification"): Diagnostic[] {
  if (graph.outputs.length === 1 || task !== "classification") return [];
  const second = graph.nodes.find((n) => n.id === graph.outputs[1])!;
  return [
    {
      code: ONNX_OUTPUTS,
      severity: "error",
      message: `cannot export \`${graph.name}\` to ONNX: it has ${graph.outputs.length} outputs, and an exported model has one class-score output (\`logits\`, \`probabilities\`)`,
      file: second.origin.file,
      range: second.origin.range,
      hint: "combine the outputs into one (concat, score_fusion) or export a network per output",
    },
  ];
}

/**
 * Builds the ONNX model of a fully lowered graph (see `runPipeline`) with the given weights, or
 * diagnostics saying why it cannot. Throws only on a compiler bug (a graph that did not go
 * through the pipeline).
 */
export function exportOnnx(graph: IrGraph, options: OnnxExportOptions): OnnxExportResult {
  const missing = PIPELINE.filter((p) => !graph.passes.includes(p.name)).map((p) => p.name);
  if (missing.length) throw new Error(`internal: exportOnnx needs a lowered graph; missing passes: ${missing.join(", ")}`);
  const inputs = onnxInputs(graph);
  const scores = outputScores(graph);
  const metadata = onnxMetadata(graph, inputs, scores, options.sources);
  const diagnostics = [...checkOnnxSupport(graph), ...checkOutputs(graph, graph.task), ...checkWeights(graph, options.weights)];
  if (diagnostics.length) return { diagnostics, inputs, metadata, nodes: 0 };

  const builder = new GraphBuilder();
  for (const name of outputNames(graph)) builder.reserve(name);
  const state: EmitState = { graph: builder, arranger: new Arranger(builder), weights: options.weights };
  const values = emitInputs(state, graph);
  for (const node of graph.nodes) {
    if (node.op === "input") continue;
    values.set(
      node.id,
      emitNode(
        state,
        node,
        node.inputs.map((i) => values.get(i)!),
        emitterFor(node.op)!,
      ),
    );
  }

  if (graph.task === "detection") {
    // Per-box rows: the logits [K, classes] and their sigmoid, each class on its own.
    const logits = values.get(graph.outputs[0]!)!;
    const dims = [BOX_ROWS, ...logits.shape];
    const held = state.arranger.arrange(logits, channelsLast(logits.order.length));
    builder.output(held, LOGITS, dims);
    builder.output(builder.op("Sigmoid", [held], builder.unique(`${LOGITS}/sigmoid`)), PROBABILITIES, dims);
    const bytes = serialize(builder, graph, metadata);
    return { bytes, diagnostics: [], inputs, metadata, nodes: builder.nodeCount };
  }

  if (graph.task !== "classification") {
    // Every output channels-last, as the IR (and tfjs) hold them, under the task's output names.
    outputNames(graph).forEach((name, i) => {
      const value = values.get(graph.outputs[i]!)!;
      builder.output(state.arranger.arrange(value, channelsLast(value.order.length)), name, [BATCH, ...value.shape]);
    });
    const bytes = serialize(builder, graph, metadata);
    return { bytes, diagnostics: [], inputs, metadata, nodes: builder.nodeCount };
  }

  // Both outputs channels-last, as the IR (and tfjs) hold them.
  const output = values.get(graph.outputs[0]!)!;
  const order = channelsLast(output.order.length);
  const dims = [BATCH, ...output.shape];
  const classAxis = output.shape.length;
  const derive = (op: string, from: Value, name: string) =>
    builder.op(op, [state.arranger.arrange(from, order)], name, op === "Softmax" ? { axis: attr.int(classAxis) } : {});
  const own = state.arranger.arrange(output, order);
  if (scores.kind === "logits") {
    builder.output(own, LOGITS, dims);
    builder.output(derive("Softmax", output, "scores/softmax"), PROBABILITIES, dims);
  } else {
    const logits = scores.softmaxInput !== undefined ? state.arranger.arrange(values.get(scores.softmaxInput)!, order) : derive("Log", output, "scores/log");
    builder.output(logits, LOGITS, dims);
    builder.output(own, PROBABILITIES, dims);
  }
  const bytes = serialize(builder, graph, metadata);
  return { bytes, diagnostics: [], inputs, metadata, nodes: builder.nodeCount };
}

function serialize(builder: GraphBuilder, graph: IrGraph, metadata: Readonly<Record<string, string>>): Uint8Array {
  return builder.serialize({
    name: graph.name,
    opset: ONNX_OPSET,
    producerVersion: vnetVersion(),
    docString: `${graph.name} from ${graph.file}${graph.description ? `: ${graph.description}` : ""}`,
    metadata,
  });
}
