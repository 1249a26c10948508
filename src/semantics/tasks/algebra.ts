/**
 * The tensor operations a task's loss is written in. A loss is a function over this interface,
 * so the one formula serves every training engine: the tfjs engine instantiates it with tfjs
 * tensors (src/runtime/tensor-algebra.ts), the ONNX Runtime training graph with tensor names on
 * its tape (one ONNX node per operation: Add, Sub, Mul, Div, Log, LogSoftmax, Softplus, ReduceSum,
 * ReduceMean, Greater + Cast, Max, Min, Gather). Every operation broadcasts like NumPy. `greater`
 * is a mask built from targets: no gradient flows through it.
 */
export interface TensorAlgebra<T> {
  /** A scalar constant. */
  scalar(value: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  /** Elementwise maximum / minimum (a clamp, where one side is a scalar). */
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;
  log(a: T): T;
  /** log(softmax(a)) over the last axis. */
  logSoftmax(a: T): T;
  /** log(sigmoid(a)) elementwise, computed stably (-softplus(-a)). */
  logSigmoid(a: T): T;
  /** Sum of every element (a scalar), or over one axis (which disappears). */
  sum(a: T, axis?: number): T;
  /** Mean of every element (a scalar), or over one axis. */
  mean(a: T, axis?: number): T;
  /** 1 where a > b, else 0, as floats; not differentiable. */
  greater(a: T, b: T): T;
  /** The slice `index` of the last axis (which disappears). */
  channel(a: T, index: number): T;
  /** The tensor's shape (batch axis included). */
  shape(a: T): readonly number[];
}

/** clamp(x, lo, hi) with scalar bounds. */
export function clamp<T>(ops: TensorAlgebra<T>, x: T, lo: number, hi: number): T {
  return ops.minimum(ops.maximum(x, ops.scalar(lo)), ops.scalar(hi));
}

/** 1 - mask. */
export function complement<T>(ops: TensorAlgebra<T>, mask: T): T {
  return ops.sub(ops.scalar(1), mask);
}
