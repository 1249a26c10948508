/**
 * A small builder for ONNX graphs over the official protobuf schema (onnx-proto, a protobufjs
 * static module of onnx.proto): nodes, attributes, float and int64 initializers, typed graph
 * inputs and outputs with a symbolic batch dimension, and serialisation of the whole model.
 * It knows nothing about vnet's IR; `emit.ts` drives it.
 */
import onnxProto from "onnx-proto";
import type { onnx as proto } from "onnx-proto";

const { onnx } = onnxProto;

/** ONNX's element types used here (TensorProto.DataType). */
const FLOAT = 1;
const INT64 = 7;

/** Attribute values: ints and floats are told apart explicitly, as ONNX types them. */
export type Attribute =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "floatTensor"; readonly value: number };

export const attr = {
  int: (value: number): Attribute => ({ kind: "int", value }),
  float: (value: number): Attribute => ({ kind: "float", value }),
  ints: (value: readonly number[]): Attribute => ({ kind: "ints", value }),
  string: (value: string): Attribute => ({ kind: "string", value }),
  /** A one-element float tensor (ConstantOfShape's `value`). */
  floatTensor: (value: number): Attribute => ({ kind: "floatTensor", value }),
};

/** A tensor dimension: a fixed size or a named symbolic one (the batch). */
export type Dim = number | string;

function attributeProto(name: string, a: Attribute): proto.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  switch (a.kind) {
    case "int":
      return { name, type: AttributeType.INT, i: a.value };
    case "float":
      return { name, type: AttributeType.FLOAT, f: a.value };
    case "ints":
      return { name, type: AttributeType.INTS, ints: [...a.value] };
    case "string":
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
    case "floatTensor":
      return { name, type: AttributeType.TENSOR, t: { dims: [1], dataType: FLOAT, floatData: [a.value] } };
  }
}

function valueInfo(name: string, dims: readonly Dim[]): proto.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

const bytesOf = (array: Float32Array | BigInt64Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** The ONNX graph under construction. Names of nodes and tensors are unique. */
export class GraphBuilder {
  private readonly nodes: proto.INodeProto[] = [];
  /** Initializer values by name, for passes that read constants back (the training step's autodiff). */
  private readonly values = new Map<string, { readonly dims: readonly number[]; readonly data: Float32Array | BigInt64Array }>();
  private readonly initializers: proto.ITensorProto[] = [];
  private readonly inputs: proto.IValueInfoProto[] = [];
  private readonly outputs: proto.IValueInfoProto[] = [];
  private readonly used = new Set<string>();

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** `base`, or `base_1`, `base_2`, ... if taken. Reserves the returned name. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /**
   * Adds a node; returns its output names. `outputs` are the wanted output names (made unique),
   * the node's own name is its first output's.
   */
  node(op: string, inputs: readonly string[], outputs: readonly string[], attributes: Readonly<Record<string, Attribute>> = {}): string[] {
    const names = outputs.map((o) => (o === "" ? "" : this.unique(o)));
    this.nodes.push({
      opType: op,
      name: names.find((n) => n !== "") ?? this.unique(op),
      input: [...inputs],
      output: [...names],
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return names;
  }

  /** A one-output node; returns the output name. */
  op(op: string, inputs: readonly string[], output: string, attributes: Readonly<Record<string, Attribute>> = {}): string {
    return this.node(op, inputs, [output], attributes)[0]!;
  }

  /** A float32 initializer with exactly this name (weights keep vnet's names). */
  floatInitializer(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.used.has(name)) throw new Error(`internal: ONNX tensor name ${name} used twice`);
    this.used.add(name);
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: bytesOf(data) });
    this.values.set(name, { dims, data });
    return name;
  }

  /** A float32 constant under a fresh name derived from `base`. */
  floatConstant(base: string, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.unique(base);
    const data = Float32Array.from(values);
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: bytesOf(data) });
    this.values.set(name, { dims, data });
    return name;
  }

  /** An int64 constant (shapes, axes, indices, pads) under a fresh name derived from `base`. */
  intConstant(base: string, dims: readonly number[], values: readonly number[]): string {
    const name = this.unique(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims: [...dims], dataType: INT64, rawData: bytesOf(data) });
    this.values.set(name, { dims, data });
    return name;
  }

  /** A graph input of type float32 (its name must be free). */
  input(name: string, dims: readonly Dim[]): string {
    if (this.used.has(name)) throw new Error(`internal: ONNX input name ${name} used twice`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Reserves a graph output's name, so that no other tensor takes it. */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`internal: ONNX name ${name} reserved twice`);
    this.used.add(name);
  }

  /** The nodes so far, in the order added (a topological order). */
  get nodeList(): readonly proto.INodeProto[] {
    return this.nodes;
  }

  /** An initializer's dims and values, or undefined when `name` is not one. */
  constantValue(name: string): { readonly dims: readonly number[]; readonly data: Float32Array | BigInt64Array } | undefined {
    return this.values.get(name);
  }

  /** The declared graph inputs' names and dims. */
  get inputList(): readonly { readonly name: string; readonly dims: readonly Dim[] }[] {
    return this.inputs.map((i) => ({ name: i.name!, dims: i.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))) }));
  }

  /** Gives the symbolic dimension `param` a fixed size in every input and output (a graph built for one batch size). */
  fixDimension(param: string, size: number): void {
    for (const info of [...this.inputs, ...this.outputs]) {
      for (const d of info.type!.tensorType!.shape!.dim!) {
        if (d.dimParam === param) {
          delete d.dimParam;
          d.dimValue = size;
        }
      }
    }
  }

  /** Declares an existing float32 tensor a graph output under its own name (no Identity node). */
  declareOutput(name: string, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** Declares the reserved `name` a float32 graph output, computed as Identity of `producer`. */
  output(producer: string, name: string, dims: readonly Dim[]): void {
    this.nodes.push({ opType: "Identity", name, input: [producer], output: [name] });
    this.outputs.push(valueInfo(name, dims));
  }

  /** The ModelProto bytes. */
  serialize(options: { name: string; opset: number; producerVersion: string; docString: string; metadata: Readonly<Record<string, string>> }): Uint8Array {
    const model: proto.IModelProto = {
      irVersion: onnx.Version.IR_VERSION,
      opsetImport: [{ domain: "", version: options.opset }],
      producerName: "vnet",
      producerVersion: options.producerVersion,
      docString: options.docString,
      graph: { name: options.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Decodes an ONNX file (initializer data stays a view of `bytes`, so this is cheap). */
export function decodeModel(bytes: Uint8Array): proto.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** The `metadata_props` of an ONNX file as a plain record. */
export function readMetadataProps(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(decodeModel(bytes).metadataProps.map((p) => [p.key ?? "", p.value ?? ""]));
}
