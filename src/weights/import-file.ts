/**
 * `vnet weights import` around the mapping (import-onnx.ts): reading the ONNX file (a located
 * VN100 for a file that cannot be read or is not ONNX), the shapes it takes, and the parity check
 * at those shapes. Files come as users have them: `torch.onnx.export` with its defaults records a
 * fixed batch of 1, and a model is often exported at another clip length (or frame size) than the
 * spec's. Weights do not depend on either (but for a dense layer fed by a flatten), so the spec is
 * elaborated again at the file's input shapes (`InputResize`) and the parity check runs there, with
 * the file's batch.
 */
import * as fs from "node:fs";
import type * as tf from "@tensorflow/tfjs";
import { OnnxError, readOnnx, type OnnxModel } from "../backends/onnx/read.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import { IR_OPS } from "../ir/ops.js";
import { lowerAtInputs } from "../ir/resize.js";
import type { Shape } from "../ops/values.js";
import { fileDiagnostic } from "./load-init.js";
import { freshModelWith } from "./model.js";
import { onnxParity, type ParityResult } from "./onnx-parity.js";
import type { NamedTensors } from "../runtime/checkpoint.js";

/** An ONNX file read for import, or the VN100 diagnostic saying why it cannot be. */
export function readOnnxFile(file: string): { model: OnnxModel; bytes: Uint8Array } | Diagnostic {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    return fileDiagnostic(
      file,
      "VN100",
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
  try {
    return { model: readOnnx(bytes), bytes };
  } catch (error) {
    if (error instanceof OnnxError)
      return fileDiagnostic(file, "VN100", `${file}: ${error.message}`, "export the model with torch.onnx.export (weights inside the file)");
    throw error;
  }
}

/** The shape (channels-last, without batch) of each of a graph's model inputs. */
function modelInputShapes(graph: IrGraph): Shape[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.modelInputs.map((i) => byId.get(i.node)!.shape);
}

/** The file's input shapes channels-last without batch (undefined where a dimension is symbolic). */
function fileShapes(model: OnnxModel): (number | undefined)[][] {
  return model.inputs.map((i) => (i.shape.length < 2 ? [] : [...i.shape.slice(2), i.shape[1]]));
}

const fits = (ours: Shape, theirs: readonly (number | undefined)[]) =>
  theirs.length === 0 || (theirs.length === ours.length && ours.every((d, k) => theirs[k] === undefined || theirs[k] === d));

/**
 * The spec's model-input shapes computed from a raw input shape, through the stream nodes between
 * them (frame selection and normalisation keep their arguments at any clip length); undefined
 * when some stream cannot take that shape.
 */
function streamShapes(graph: IrGraph, raw: Shape): Shape[] | undefined {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const shapeAt = (id: number): Shape | undefined => {
    const node = byId.get(id)!;
    if (node.op === "input") return node.id === graph.inputs[0]!.node ? raw : node.shape;
    const input = shapeAt(node.inputs[0]!);
    const shape = input && IR_OPS.get(node.op)!.shape!([input], node.args);
    return typeof shape === "string" ? undefined : shape;
  };
  const shapes = graph.modelInputs.map((i) => shapeAt(i.node));
  return shapes.every((s) => s !== undefined) ? (shapes as Shape[]) : undefined;
}

/**
 * The raw clip shape at which the spec's model inputs take the file's input shapes, when they do
 * not already: the file's frame size, and the clip length whose streams give the file's lengths.
 */
function rawShapeFor(graph: IrGraph, model: OnnxModel): Shape | undefined {
  const raw = graph.inputs.filter((i) => i.kind === "raw");
  if (raw.length !== 1 || raw[0]!.shape.length !== 4 || graph.inputs.length !== 1) return undefined;
  const theirs = fileShapes(model);
  const [frames, height, width, channels] = raw[0]!.shape as [number, number, number, number];
  const sized = theirs.find((s) => s.length === 4) ?? theirs.find((s) => s.length === 3);
  const h = sized?.[sized.length - 3] ?? height;
  const w = sized?.[sized.length - 2] ?? width;
  const longest = Math.max(frames, ...theirs.map((s) => (s.length === 4 ? (s[0] ?? 0) : 0)));
  for (let t = 1; t <= 4 * longest; t++) {
    const shapes = streamShapes(graph, [t, h, w, channels]);
    if (shapes && shapes.every((s, k) => fits(s, theirs[k]!))) return [t, h, w, channels];
  }
  return undefined;
}

/** The mapping's weights checked against ONNX Runtime on the file, at the file's own shapes. */
export interface ImportParity {
  readonly parity: ParityResult;
  /** Set when the spec was elaborated at the file's input: the raw clip shape it ran at. */
  readonly resized?: Shape;
}

/**
 * Runs the imported weights beside ONNX Runtime on the file. At the spec's own input shapes when
 * the file takes them, else at the file's (the spec re-checked at that clip size); a string says
 * why the two cannot be compared.
 */
export async function importParity(
  graph: IrGraph,
  file: { model: OnnxModel; bytes: Uint8Array },
  weights: NamedTensors,
  seed: number,
): Promise<ImportParity | string> {
  const theirs = fileShapes(file.model);
  if (theirs.length !== graph.modelInputs.length) return `the ONNX model has ${theirs.length} inputs, ${graph.name} reads ${graph.modelInputs.length}`;
  let target = graph;
  let resized: Shape | undefined;
  if (!modelInputShapes(graph).every((s, k) => fits(s, theirs[k]!))) {
    resized = rawShapeFor(graph, file.model);
    if (!resized)
      return `the ONNX model's inputs [${theirs.map((s) => s.map((d) => d ?? "?").join(", ")).join("], [")}] are no clip size of ${graph.name}'s inputs`;
    const rebuilt = lowerAtInputs(graph, new Map([[graph.inputs[0]!.name, resized]]));
    if (typeof rebuilt === "string") return `${graph.name} does not check at the file's clip [${resized.join(", ")}]: ${rebuilt}`;
    target = rebuilt;
  }
  const built = freshModelWith(target, weights, seed);
  if (typeof built === "string") return `at the file's clip [${resized!.join(", ")}], ${built}`;
  let parity: ParityResult | string;
  try {
    parity = await onnxParity(file.bytes, file.model, target, built, { seed: 7 });
  } finally {
    (built as tf.LayersModel).dispose();
  }
  if (typeof parity === "string") return parity;
  return { parity, ...(resized ? { resized } : {}) };
}
