/**
 * The tasks' tensor algebra (src/semantics/tasks/algebra.ts) on an ONNX graph: each operation adds
 * one ONNX node to the training step through the autodiff's tape (so every tensor has its static
 * shape), which is how the training step computes a task's loss from the same formula the tfjs
 * engine evaluates. Every node used here has a VJP rule, except Greater (a mask from targets, which
 * carries no gradient).
 */
import type { TensorAlgebra } from "../../../semantics/tasks/algebra.js";
import type { Tape } from "../autodiff/tape.js";
import { attr } from "../builder.js";

/** The algebra over tensor names of `tape`'s graph; new tensors are named under `base`. */
export function onnxAlgebra(tape: Tape, base: string): TensorAlgebra<string> {
  let count = 0;
  const name = (op: string) => `${base}/${op.toLowerCase()}${count++}`;
  const op = (type: string, inputs: string[], attributes = {}) => tape.op(type, inputs, name(type), attributes);
  const axisOf = (a: string, axis: number) => (axis < 0 ? tape.shape(a).length + axis : axis);
  const allAxes = (a: string) => tape.shape(a).map((_, i) => i);
  return {
    scalar: (value) => tape.scalar(value),
    add: (a, b) => op("Add", [a, b]),
    sub: (a, b) => op("Sub", [a, b]),
    mul: (a, b) => op("Mul", [a, b]),
    div: (a, b) => op("Div", [a, b]),
    maximum: (a, b) => op("Max", [a, b]),
    minimum: (a, b) => op("Min", [a, b]),
    log: (a) => op("Log", [a]),
    logSoftmax: (a) => op("LogSoftmax", [a], { axis: attr.int(-1) }),
    logSigmoid: (a) => op("Neg", [op("Softplus", [op("Neg", [a])])]),
    sum: (a, axis) => tape.reduceSum(a, axis === undefined ? allAxes(a) : [axisOf(a, axis)], false, name("ReduceSum")),
    mean: (a, axis) => op("ReduceMean", [a], { axes: attr.ints(axis === undefined ? allAxes(a) : [axisOf(a, axis)]), keepdims: attr.int(0) }),
    greater: (a, b) => op("Cast", [op("Greater", [a, b])], { to: attr.int(1) }),
    channel: (a, index) => op("Gather", [a, tape.graph.intConstant(name("index"), [], [index])], { axis: attr.int(tape.shape(a).length - 1) }),
    shape: (a) => tape.shape(a),
  };
}
