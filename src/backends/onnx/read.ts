/**
 * Reads an ONNX model (as PyTorch's exporter writes it) into the weighted layers vnet can map:
 * convolutions (with the batch norm that alone consumes their output, if any), standalone batch
 * norms, and dense layers (Gemm, or MatMul followed by an Add of a constant). Weights are the
 * graph's initializers and Constant nodes, through Identity nodes; layers come in graph order,
 * which ONNX requires to be topological. What cannot be mapped is listed, never guessed at.
 * Layouts stay ONNX's (conv [out, in / groups, ...kernel], Gemm as stored); `import-onnx.ts`
 * converts them.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

export interface OnnxTensor {
  /** Initializer name, or the output name of the Constant node that holds it. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface OnnxBatchNorm {
  readonly kind: "bn";
  /** Node name (its first output when unnamed). */
  readonly node: string;
  readonly scale: OnnxTensor;
  readonly bias: OnnxTensor;
  readonly mean: OnnxTensor;
  readonly variance: OnnxTensor;
  readonly epsilon: number;
}

export interface OnnxConv {
  readonly kind: "conv";
  readonly node: string;
  /** [out, in / groups, ...kernel]. */
  readonly weight: OnnxTensor;
  readonly bias?: OnnxTensor;
  readonly group: number;
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** The batch norm that alone reads this conv's output. */
  readonly bn?: OnnxBatchNorm;
}

export interface OnnxDense {
  readonly kind: "dense";
  readonly node: string;
  readonly op: "Gemm" | "MatMul";
  /** As stored: Gemm with transB [out, in], otherwise [in, out]. */
  readonly weight: OnnxTensor;
  readonly transposed: boolean;
  /** Gemm's alpha (1 for MatMul), the factor of the weight. */
  readonly alpha: number;
  /** [out]: Gemm's C times beta, or the constant a MatMul's Add adds. */
  readonly bias?: { readonly tensor: OnnxTensor; readonly values: Float32Array };
}

export type OnnxLayer = OnnxConv | OnnxBatchNorm | OnnxDense;

export interface OnnxModel {
  /** "pytorch 1.13.0" from the model's producer fields. */
  readonly producer: string;
  /** Graph inputs that are not initializers; unknown (symbolic) dimensions are undefined. */
  readonly inputs: readonly { readonly name: string; readonly shape: readonly (number | undefined)[] }[];
  readonly outputs: readonly string[];
  readonly layers: readonly OnnxLayer[];
  /** Float tensors no layer uses. */
  readonly unused: readonly OnnxTensor[];
  /** Weighted nodes vnet cannot map, as sentences. */
  readonly unsupported: readonly string[];
}

/** A file that is not an ONNX model vnet can read. */
export class OnnxError extends Error {}

type Long = { toNumber(): number };
const num = (v: number | Long | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === "number" ? v : v.toNumber());

function decodeTensor(t: TensorProto, name: string): OnnxTensor | undefined {
  const shape = (t.dims ?? []).map(num);
  const size = shape.reduce((a, b) => a * b, 1);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new OnnxError(`tensor ${name} is stored in an external file; re-export with the weights inside the model (torch.onnx.export without external data)`);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  let values: Float32Array;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      values = Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
    } else values = Float32Array.from(t.floatData ?? []);
  } else if (t.dataType === onnx.TensorProto.DataType.DOUBLE) {
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      values = Float32Array.from({ length: raw.byteLength / 8 }, (_, i) => view.getFloat64(8 * i, true));
    } else values = Float32Array.from(t.doubleData ?? []);
  } else return undefined;
  if (values.length !== size) throw new OnnxError(`tensor ${name} holds ${values.length} values for shape [${shape.join(", ")}]`);
  return { name, shape, values };
}

function attribute(node: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
const intAttr = (node: NodeProto, name: string, fallback: number) => {
  const a = attribute(node, name);
  return a ? num(a.i) : fallback;
};
const floatAttr = (node: NodeProto, name: string, fallback: number) => attribute(node, name)?.f ?? fallback;
const intsAttr = (node: NodeProto, name: string) => (attribute(node, name)?.ints ?? []).map(num);

/** Decodes an ONNX file's bytes into its mappable layers. */
export function readOnnx(bytes: Uint8Array): OnnxModel {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxError(`not an ONNX model: ${(error as Error).message.split("\n")[0]}`);
  }
  const graph = model.graph;
  if (!graph || !(graph.node ?? []).length) throw new OnnxError("the file holds no ONNX graph");
  const constants = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) {
    const tensor = decodeTensor(t, t.name ?? "");
    if (tensor) constants.set(tensor.name, tensor);
  }
  const nodes = graph.node ?? [];
  const alias = new Map<string, string>();
  for (const node of nodes) {
    const value = attribute(node, "value")?.t;
    if (node.opType === "Constant" && value) {
      const tensor = decodeTensor(value, node.output![0]!);
      if (tensor) constants.set(tensor.name, tensor);
    } else if (node.opType === "Identity" && constants.has(node.input![0]!)) alias.set(node.output![0]!, node.input![0]!);
  }
  const constant = (name: string | undefined) => (name ? constants.get(alias.get(name) ?? name) : undefined);
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const only = (output: string) => {
    const readers = consumers.get(output) ?? [];
    return readers.length === 1 && !(graph.output ?? []).some((o) => o.name === output) ? readers[0] : undefined;
  };

  const used = new Set<string>();
  const take = (tensor: OnnxTensor) => (used.add(tensor.name), tensor);
  const claimed = new Set<NodeProto>();
  const layers: OnnxLayer[] = [];
  const unsupported: string[] = [];
  const label = (node: NodeProto) => node.name || node.output![0]!;
  const batchNorm = (node: NodeProto): OnnxBatchNorm | undefined => {
    const [, s, b, m, v] = (node.input ?? []).map(constant);
    if (!s || !b || !m || !v) return undefined;
    return { kind: "bn", node: label(node), scale: take(s), bias: take(b), mean: take(m), variance: take(v), epsilon: floatAttr(node, "epsilon", 1e-5) };
  };
  for (const node of nodes) {
    if (claimed.has(node)) continue;
    const inputs = node.input ?? [];
    switch (node.opType) {
      case "Conv": {
        const weight = constant(inputs[1]);
        if (!weight) {
          unsupported.push(`Conv ${label(node)} takes its weight from the graph, not from a constant`);
          break;
        }
        const bias = constant(inputs[2]);
        const next = only(node.output![0]!);
        const bn = next?.opType === "BatchNormalization" ? batchNorm(next) : undefined;
        if (bn) claimed.add(next!);
        const rank = weight.shape.length - 2;
        const ones = Array<number>(rank).fill(1);
        const strides = intsAttr(node, "strides");
        const dilations = intsAttr(node, "dilations");
        layers.push({
          kind: "conv",
          node: label(node),
          weight: take(weight),
          ...(bias ? { bias: take(bias) } : {}),
          group: intAttr(node, "group", 1),
          strides: strides.length ? strides : ones,
          dilations: dilations.length ? dilations : ones,
          ...(bn ? { bn } : {}),
        });
        break;
      }
      case "BatchNormalization": {
        const bn = batchNorm(node);
        if (bn) layers.push(bn);
        else unsupported.push(`BatchNormalization ${label(node)} takes its parameters from the graph, not from constants`);
        break;
      }
      case "Gemm": {
        const weight = constant(inputs[1]);
        if (!weight || weight.shape.length !== 2 || intAttr(node, "transA", 0) !== 0) {
          unsupported.push(`Gemm ${label(node)} needs a constant 2D B and transA = 0`);
          break;
        }
        const transposed = intAttr(node, "transB", 0) === 1;
        const out = transposed ? weight.shape[0]! : weight.shape[1]!;
        const c = constant(inputs[2]);
        const beta = floatAttr(node, "beta", 1);
        if (inputs[2] && (!c || c.values.length !== out)) {
          unsupported.push(`Gemm ${label(node)} adds a C that is not a constant of ${out} values`);
          break;
        }
        layers.push({
          kind: "dense",
          node: label(node),
          op: "Gemm",
          weight: take(weight),
          transposed,
          alpha: floatAttr(node, "alpha", 1),
          ...(c ? { bias: { tensor: take(c), values: c.values.map((v) => v * beta) } } : {}),
        });
        break;
      }
      case "MatMul": {
        const weight = constant(inputs[1]);
        if (!weight) break; // a product of two activations (attention): no weights
        if (weight.shape.length !== 2) {
          unsupported.push(`MatMul ${label(node)} multiplies by a constant of rank ${weight.shape.length}`);
          break;
        }
        const add = only(node.output![0]!);
        const addend = add?.opType === "Add" ? add.input!.map(constant).find((t) => t !== undefined) : undefined;
        const bias = addend && addend.values.length === weight.shape[1] ? addend : undefined;
        if (bias) claimed.add(add!);
        layers.push({
          kind: "dense",
          node: label(node),
          op: "MatMul",
          weight: take(weight),
          transposed: false,
          alpha: 1,
          ...(bias ? { bias: { tensor: take(bias), values: bias.values } } : {}),
        });
        break;
      }
      default:
        if (["ConvTranspose", "LSTM", "GRU", "RNN", "InstanceNormalization", "LayerNormalization", "PRelu"].includes(node.opType ?? ""))
          unsupported.push(`${node.opType} ${label(node)} has no vnet counterpart the importer maps`);
    }
  }
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const shapeOf = (info: onnxProto.onnx.IValueInfoProto) =>
    (info.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam || !num(d.dimValue) ? undefined : num(d.dimValue)));
  return {
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(" ") || "unknown producer",
    inputs: (graph.input ?? []).filter((i) => !initializerNames.has(i.name)).map((i) => ({ name: i.name ?? "", shape: shapeOf(i) })),
    outputs: (graph.output ?? []).map((o) => o.name ?? ""),
    layers,
    unused: [...constants.values()].filter((t) => !used.has(t.name) && t.shape.length > 0 && t.values.length > 1),
    unsupported,
  };
}
