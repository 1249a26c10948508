/**
 * The tasks' tensor algebra (src/semantics/tasks/algebra.ts) on tfjs tensors: how the tfjs
 * engine evaluates a task's loss formula, inside `optimizer.minimize` so tfjs differentiates it.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorAlgebra } from "../semantics/tasks/algebra.js";

const axisOf = (a: tf.Tensor, axis: number) => (axis < 0 ? a.rank + axis : axis);

/** tfjs tensors as the tasks' algebra. */
export const TFJS_ALGEBRA: TensorAlgebra<tf.Tensor> = {
  scalar: (value) => tf.scalar(value),
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  maximum: (a, b) => tf.maximum(a, b),
  minimum: (a, b) => tf.minimum(a, b),
  log: (a) => tf.log(a),
  logSoftmax: (a) => tf.logSoftmax(a),
  // -softplus(-a): tf.logSigmoid's custom gradient reads a disposed tensor inside optimizer.minimize.
  logSigmoid: (a) => tf.neg(tf.softplus(tf.neg(a))),
  sum: (a, axis) => (axis === undefined ? tf.sum(a) : tf.sum(a, axisOf(a, axis))),
  mean: (a, axis) => (axis === undefined ? tf.mean(a) : tf.mean(a, axisOf(a, axis))),
  greater: (a, b) => tf.cast(tf.greater(a, b), "float32"),
  channel: (a, index) => tf.squeeze(tf.slice(a, [...Array(a.rank - 1).fill(0), index], [...a.shape.slice(0, -1), 1]), [a.rank - 1]),
  shape: (a) => a.shape,
};
