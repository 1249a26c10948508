/**
 * The autodiff's view of an ONNX graph under construction: every node of a `GraphBuilder` with its
 * attributes read back, the static shape of every tensor (a training step is built for one batch
 * size, so shapes are known), and helpers that add nodes and keep the shapes up to date. The VJP
 * rules (`vjp.ts`) and the gradient formulations they call (`conv-gradient.ts`) build the backward
 * pass through a Tape.
 */
import type { onnx as proto } from "onnx-proto";
import { attr, type Attribute, type GraphBuilder } from "../builder.js";
import { inferShapes } from "./shapes.js";

export type Shape = readonly number[];

/** Attribute values as the rules read them. */
export type AttrValue = number | readonly number[] | string;

/** One node of the graph: its type, tensors and attributes. */
export interface NodeView {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
  /** The protobuf node itself (a rule may ask for an extra output, e.g. MaxPool's indices). */
  readonly proto: proto.INodeProto;
}

const decoder = new TextDecoder();

/** The attributes of a node built by `GraphBuilder` (INT, FLOAT, INTS, STRING). */
export function readAttributes(node: proto.INodeProto): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of node.attribute ?? []) {
    if (a.ints && a.ints.length) out[a.name!] = a.ints.map(Number);
    else if (a.s && a.s.length) out[a.name!] = decoder.decode(a.s);
    else if (a.type === 2 /* INT */) out[a.name!] = Number(a.i ?? 0);
    else if (a.type === 1 /* FLOAT */) out[a.name!] = a.f ?? 0;
    else if (a.type === 7 /* INTS, empty */) out[a.name!] = [];
    else out[a.name!] = Number(a.i ?? a.f ?? 0);
  }
  return out;
}

export function viewOf(node: proto.INodeProto): NodeView {
  return { op: node.opType!, name: node.name!, inputs: node.input ?? [], outputs: node.output ?? [], attrs: readAttributes(node), proto: node };
}

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/**
 * Shapes and constants of a graph, and the node-adding helpers of the backward pass. Every tensor
 * a rule may ask about has a static shape; a tensor of an operator without a shape rule has none
 * (and no gradient can flow through it).
 */
export class Tape {
  private readonly shapes = new Map<string, Shape>();
  private readonly scalars = new Map<string, string>();
  private inferred = 0;

  /**
   * @param graph the graph (the forward pass already in it)
   * @param dims sizes of the inputs' symbolic dimensions (the batch)
   */
  constructor(
    readonly graph: GraphBuilder,
    dims: Readonly<Record<string, number>>,
  ) {
    for (const input of graph.inputList) {
      this.shapes.set(
        input.name,
        input.dims.map((d) => {
          if (typeof d === "number") return d;
          const size = dims[d];
          if (size === undefined) throw new Error(`internal: no size for the symbolic dimension ${d} of ${input.name}`);
          return size;
        }),
      );
    }
    this.sync();
  }

  /** Infers the shapes of nodes added to the graph directly (not through the tape) since the last call. */
  sync(): void {
    const nodes = this.graph.nodeList;
    for (; this.inferred < nodes.length; this.inferred++) this.record(viewOf(nodes[this.inferred]!));
  }

  /** All nodes so far, as views. */
  nodes(): NodeView[] {
    this.sync();
    return this.graph.nodeList.map(viewOf);
  }

  private record(node: NodeView): void {
    const shapes = node.inputs.map((i) => (i === "" ? undefined : this.shapeOrUndefined(i)));
    const out = inferShapes(node, shapes, (i) => this.ints(node.inputs[i]));
    out?.forEach((s, i) => {
      const name = node.outputs[i];
      if (name && s) this.shapes.set(name, s);
    });
  }

  /** Output `index` of a node already in the graph, added to the node when it has none there yet (its shape recorded). */
  addOutput(node: NodeView, index: number): string {
    const outputs = node.proto.output!;
    while (outputs.length <= index) outputs.push("");
    if (!outputs[index]) {
      outputs[index] = this.graph.unique(`${node.name}/output${index}`);
      this.record(viewOf(node.proto));
    }
    return outputs[index]!;
  }

  /** The static shape of a tensor, or undefined when its operator has no shape rule. */
  shapeOrUndefined(name: string): Shape | undefined {
    const known = this.shapes.get(name);
    if (known) return known;
    const constant = this.graph.constantValue(name);
    return constant?.dims;
  }

  /** The static shape of a tensor (a compiler bug when unknown). */
  shape(name: string): Shape {
    const s = this.shapeOrUndefined(name);
    if (!s) throw new Error(`internal: no static shape for ONNX tensor ${name}`);
    return s;
  }

  /** The values of a constant (initializer) as numbers, or undefined when `name` is not a constant. */
  ints(name: string | undefined): number[] | undefined {
    if (!name) return undefined;
    const c = this.graph.constantValue(name);
    if (!c) return undefined;
    return Array.from(c.data as ArrayLike<number | bigint>, Number);
  }

  /** Adds a one-output node and records its output's shape. */
  op(type: string, inputs: readonly string[], base: string, attributes: Readonly<Record<string, Attribute>> = {}): string {
    const name = this.graph.op(type, inputs, base, attributes);
    this.sync();
    return name;
  }

  /** Adds a node with several outputs (names made unique) and records their shapes. */
  node(type: string, inputs: readonly string[], outputs: readonly string[], attributes: Readonly<Record<string, Attribute>> = {}): string[] {
    const names = this.graph.node(type, inputs, outputs, attributes);
    this.sync();
    return names;
  }

  /** A float scalar constant, shared by every use of the same value. */
  scalar(value: number): string {
    const key = String(Math.fround(value));
    let name = this.scalars.get(key);
    if (!name) {
      name = this.graph.floatConstant(`grad/const_${this.scalars.size}`, [], [value]);
      this.scalars.set(key, name);
    }
    return name;
  }

  /** An int64 1-D constant (axes, shapes, pads). */
  intList(base: string, values: readonly number[]): string {
    return this.graph.intConstant(base, [values.length], values);
  }

  add(a: string, b: string, base: string): string {
    return this.op("Add", [a, b], base);
  }

  mul(a: string, b: string, base: string): string {
    return this.op("Mul", [a, b], base);
  }

  neg(a: string, base: string): string {
    return this.op("Neg", [a], base);
  }

  reshape(x: string, shape: Shape, base: string): string {
    if (this.shape(x).join() === shape.join()) return x;
    return this.op("Reshape", [x, this.intList(`${base}/shape`, shape)], base);
  }

  transpose(x: string, perm: readonly number[], base: string): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op("Transpose", [x], base, { perm: attr.ints(perm) });
  }

  /** Sum over `axes` (ReduceSum takes them as an input from opset 13). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean, base: string): string {
    if (axes.length === 0) return x;
    return this.op("ReduceSum", [x, this.intList(`${base}/axes`, axes)], base, { keepdims: attr.int(keepdims ? 1 : 0) });
  }

  /** Zeros of a static shape. */
  zeros(shape: Shape, base: string): string {
    return this.op("ConstantOfShape", [this.intList(`${base}/shape`, shape)], base, { value: attr.floatTensor(0) });
  }

  /** `x` broadcast to `shape`. */
  expand(x: string, shape: Shape, base: string): string {
    if (this.shape(x).join() === shape.join()) return x;
    return this.op("Expand", [x, this.intList(`${base}/shape`, shape)], base);
  }

  /**
   * A gradient of a broadcast result summed back to the shape of the operand that was broadcast:
   * over the leading axes the operand lacks and the axes where it has size 1.
   */
  unbroadcast(grad: string, to: Shape, base: string): string {
    const from = this.shape(grad);
    if (from.join() === to.join()) return grad;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
    const summed = this.reduceSum(grad, axes, true, base);
    return this.reshape(summed, to, `${base}/shape`);
  }

  /** Number of elements of a tensor. */
  size(name: string): number {
    return product(this.shape(name));
  }
}
