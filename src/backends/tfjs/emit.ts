/**
 * The tfjs backend: a table from IR operator to emitter. Every node is first checked for support,
 * so an operator or argument tfjs cannot run becomes a diagnostic at the spec line that made it,
 * and only a fully supported graph is built, as a functional `tf.LayersModel`, channels-last.
 * Each IR node becomes one tfjs layer named after the node, so a weight declared as
 * `layer1.0.conv1.conv3d.kernel` is the tfjs weight `layer1.0.conv1.conv3d/kernel`.
 * Standard tfjs layers are used where they compute exactly what the IR says; vnet's custom layers
 * (`layers/`) fill the gaps.
 */
import type { Code } from "../../diagnostics/codes.js";
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { isInferError, sliceBounds, temporalShiftPlan, type Args } from "../../ops/catalogue.js";
import { perAxis, windowDims } from "../../ops/geometry.js";
import { frameIndex, subsampleIndices } from "../../ops/temporal.js";
import type { IrGraph, IrNode, WeightRole } from "../../ir/graph.js";
import { declaredWeights } from "../../ir/weights.js";
import { PIPELINE } from "../../ir/pipeline.js";
import { VnetNonLocalAttention } from "./layers/attention.js";
import { VnetBatchNorm } from "./layers/batch-norm.js";
import { VnetBoundaryMatching } from "./layers/boundary-matching.js";
import { type InitKind, type Initializer, makeInitializer, weightSeed } from "./layers/common.js";
import { VnetConvGru2d, VnetConvLstm2d } from "./layers/conv-recurrent.js";
import { VnetConv } from "./layers/conv.js";
import { VnetHardActivation, VnetMultiply, VnetSlice } from "./layers/elementwise.js";
import { VnetScoreFusion } from "./layers/fusion.js";
import { VnetLrn } from "./layers/lrn.js";
import { VnetNormalize } from "./layers/normalize.js";
import { VnetPad } from "./layers/padding.js";
import { VnetRoiAlign } from "./layers/roi-align.js";
import { roiAlignGeometry } from "../../ops/roi-align.js";
import { VnetAvgPool, VnetAxisPool } from "./layers/pooling.js";
import { VnetFoldTime, VnetSelectFrames, VnetStackFrames, VnetTemporalShift, VnetUnfoldTime } from "./layers/temporal.js";

/** Diagnostic code for an operator or argument the tfjs backend cannot lower. */
export const TFJS_UNSUPPORTED: Code = "VN070";

export interface TfjsEmitOptions {
  /** Seed of every initializer; each weight's seed also depends on its name (default 0). */
  readonly seed?: number;
  /** Initialise all weights to zero: fast, for counting parameters or before loading weights. */
  readonly zeroInit?: boolean;
}

export interface TfjsEmitResult {
  /** Absent when a diagnostic says why the graph cannot be lowered. */
  readonly model?: tf.LayersModel;
  readonly diagnostics: readonly Diagnostic[];
}

interface EmitContext {
  /** Shapes of the node's inputs, without batch. */
  readonly inputShapes: readonly (readonly number[])[];
  /** Layer name and trainability for this node. */
  readonly base: { name: string; trainable: boolean };
  /** Seed of one of the node's weights. */
  seed(role: WeightRole): number;
  /** A seeded initializer for one of the node's weights. */
  init(role: WeightRole, kind: InitKind): Initializer;
  readonly zeroInit: boolean;
}

type Symbolic = tf.SymbolicTensor;

interface Emitter {
  /** Why tfjs cannot run this node, or undefined when it can. */
  readonly unsupported?: (node: IrNode, inputShapes: readonly (readonly number[])[]) => string | undefined;
  readonly emit: (node: IrNode, inputs: Symbolic[], ctx: EmitContext) => Symbolic;
}

const apply = (layer: tf.layers.Layer, inputs: Symbolic | Symbolic[]): Symbolic => layer.apply(inputs) as Symbolic;
const one = (inputs: Symbolic[]) => inputs[0]!;

function convEmitter(op: "conv1d" | "conv2d" | "conv3d"): Emitter {
  const rank = windowDims(op);
  return {
    emit: (node, inputs, ctx) => {
      const a = node.args;
      const kernelSize = perAxis(a.kernel, rank, 1);
      const strides = perAxis(a.stride, rank, 1);
      const dilationRate = perAxis(a.dilation, rank, 1);
      const groups = (a.groups as number | undefined) ?? 1;
      const padding = a.pad as "same" | "valid";
      const useBias = a.bias !== false;
      const filters = a.filters as number;
      // Every conv is vnet's layer: tfjs's conv3d has no dilated gradient and wrong gradients on
      // wasm, its conv2d refuses a stride with a dilation, and both lack groups.
      return apply(
        new VnetConv({
          ...ctx.base,
          rank,
          filters,
          kernelSize,
          strides,
          padding,
          dilationRate,
          groups,
          useBias,
          seed: ctx.seed("kernel"),
          zeroInit: ctx.zeroInit,
        }),
        one(inputs),
      );
    },
  };
}

function poolEmitter(op: string): Emitter {
  // Pools are 2D or 3D (the catalogue has no 1D pool).
  const rank = windowDims(op) as 2 | 3;
  const max = op.startsWith("max");
  return {
    emit: (node, inputs, ctx) => {
      const a = node.args;
      const poolSize = perAxis(a.kernel, rank, 1);
      const strides = perAxis(a.stride, rank, 1);
      // Only average pools keep explicit padding (explicit-padding gives max pools a pad node).
      if (a.pad === "explicit") {
        return apply(
          new VnetAvgPool({ ...ctx.base, rank, poolSize, strides, before: [...(a.pad_before as number[])], after: [...(a.pad_after as number[])] }),
          one(inputs),
        );
      }
      const padding = a.pad as "same" | "valid";
      const layer =
        rank === 2
          ? (max ? tf.layers.maxPooling2d : tf.layers.averagePooling2d)({
              ...ctx.base,
              poolSize: poolSize as [number, number],
              strides: strides as [number, number],
              padding,
            })
          : (max ? tf.layers.maxPooling3d : tf.layers.averagePooling3d)({
              ...ctx.base,
              poolSize: poolSize as [number, number, number],
              strides: strides as [number, number, number],
              padding,
            });
      return apply(layer, one(inputs));
    },
  };
}

function axisPoolEmitter(mode: "mean" | "max", over: "positions" | "time"): Emitter {
  return { emit: (_node, inputs, ctx) => apply(new VnetAxisPool({ ...ctx.base, mode, over }), one(inputs)) };
}

function activationEmitter(activation: "relu" | "sigmoid" | "tanh" | "softmax" | "swish"): Emitter {
  return { emit: (_node, inputs, ctx) => apply(tf.layers.activation({ ...ctx.base, activation }), one(inputs)) };
}

function recurrentEmitter(op: "lstm" | "gru"): Emitter {
  return {
    emit: (node, inputs, ctx) => {
      const args = {
        ...ctx.base,
        units: node.args.units as number,
        returnSequences: node.args.sequences === "all",
        dropout: (node.args.dropout as number | undefined) ?? 0,
        // PyTorch's gates; tfjs defaults to the hard sigmoid of early Keras.
        recurrentActivation: "sigmoid" as const,
        // Keras's default, which tfjs leaves off: the LSTM forget gate starts open.
        ...(op === "lstm" ? { unitForgetBias: true } : {}),
        kernelInitializer: ctx.init("kernel", "dense"),
        recurrentInitializer: ctx.init("recurrent_kernel", "recurrent"),
        biasInitializer: ctx.init("bias", "zeros"),
      };
      return apply(op === "lstm" ? tf.layers.lstm(args) : tf.layers.gru(args), one(inputs));
    },
  };
}

function convRecurrentArgs(node: IrNode, ctx: EmitContext) {
  return {
    ...ctx.base,
    filters: node.args.filters as number,
    kernelSize: perAxis(node.args.kernel, 2, 3) as [number, number],
    returnSequences: node.args.sequences === "all",
    seed: ctx.seed("kernel"),
    zeroInit: ctx.zeroInit,
  };
}

/** Per-channel values: one value given for every channel is repeated. */
function channelValues(value: Args[string], channels: number): number[] {
  const list = (Array.isArray(value) ? value : [value]) as number[];
  return list.length === 1 ? Array(channels).fill(list[0]) : [...list];
}

const EMITTERS: Readonly<Record<string, Emitter>> = {
  conv1d: convEmitter("conv1d"),
  conv2d: convEmitter("conv2d"),
  conv3d: convEmitter("conv3d"),
  pad: {
    emit: (node, inputs, ctx) =>
      apply(
        new VnetPad({
          ...ctx.base,
          before: [...(node.args.before as number[])],
          after: [...(node.args.after as number[])],
          value: node.args.value === "-inf" ? "-inf" : (node.args.value as number),
        }),
        one(inputs),
      ),
  },
  maxpool2d: poolEmitter("maxpool2d"),
  maxpool3d: poolEmitter("maxpool3d"),
  avgpool2d: poolEmitter("avgpool2d"),
  avgpool3d: poolEmitter("avgpool3d"),
  global_avg_pool: axisPoolEmitter("mean", "positions"),
  global_max_pool: axisPoolEmitter("max", "positions"),
  temporal_pool: {
    emit: (node, inputs, ctx) => apply(new VnetAxisPool({ ...ctx.base, mode: node.args.mode === "max" ? "max" : "mean", over: "time" }), one(inputs)),
  },
  bn: {
    emit: (node, inputs, ctx) =>
      // PyTorch's momentum weighs the new batch; Keras's weighs the old moving value.
      apply(
        new VnetBatchNorm({
          ...ctx.base,
          epsilon: node.args.eps as number,
          momentum: 1 - (node.args.momentum as number),
          zeroGamma: node.args.zero_gamma === true,
          zeroInit: ctx.zeroInit,
        }),
        one(inputs),
      ),
  },
  lrn: {
    emit: (node, inputs, ctx) =>
      apply(
        new VnetLrn({
          ...ctx.base,
          size: node.args.size as number,
          alpha: node.args.alpha as number,
          beta: node.args.beta as number,
          k: node.args.k as number,
        }),
        one(inputs),
      ),
  },
  relu: activationEmitter("relu"),
  sigmoid: activationEmitter("sigmoid"),
  tanh: activationEmitter("tanh"),
  softmax: activationEmitter("softmax"),
  swish: activationEmitter("swish"),
  // tfjs's "gelu" is the exact erf form and "gelu_new" PyTorch's approximate = "tanh".
  gelu: {
    emit: (node, inputs, ctx) => apply(tf.layers.activation({ ...ctx.base, activation: node.args.approximate === "tanh" ? "gelu_new" : "gelu" }), one(inputs)),
  },
  hard_sigmoid: { emit: (_node, inputs, ctx) => apply(new VnetHardActivation({ ...ctx.base, kind: "hard_sigmoid" }), one(inputs)) },
  hard_swish: { emit: (_node, inputs, ctx) => apply(new VnetHardActivation({ ...ctx.base, kind: "hard_swish" }), one(inputs)) },
  dropout: { emit: (node, inputs, ctx) => apply(tf.layers.dropout({ ...ctx.base, rate: node.args.rate as number }), one(inputs)) },
  normalize: {
    emit: (node, inputs, ctx) => {
      const channels = ctx.inputShapes[0]!.at(-1)!;
      return apply(
        new VnetNormalize({
          ...ctx.base,
          mean: channelValues(node.args.mean, channels),
          std: channelValues(node.args.std, channels),
          scale: (node.args.scale as number | undefined) ?? 255,
          stream: node.args.stream === true,
        }),
        one(inputs),
      );
    },
  },
  dense: {
    emit: (node, inputs, ctx) =>
      apply(
        tf.layers.dense({
          ...ctx.base,
          units: node.args.units as number,
          useBias: node.args.bias !== false,
          kernelInitializer: ctx.init("kernel", "dense"),
          biasInitializer: ctx.init("bias", "zeros"),
        }),
        one(inputs),
      ),
  },
  flatten: { emit: (_node, inputs, ctx) => apply(tf.layers.flatten(ctx.base), one(inputs)) },
  concat: { emit: (node, inputs, ctx) => apply(tf.layers.concatenate({ ...ctx.base, axis: node.args.axis === "time" ? 1 : -1 }), inputs) },
  add: { emit: (_node, inputs, ctx) => apply(tf.layers.add(ctx.base), inputs) },
  mul: { emit: (_node, inputs, ctx) => apply(new VnetMultiply(ctx.base), inputs) },
  slice: {
    emit: (node, inputs, ctx) => {
      const bounds = sliceBounds(ctx.inputShapes[0]!, node.args);
      if (isInferError(bounds)) throw new Error(`internal: ${node.name}: ${bounds.error}`);
      return apply(new VnetSlice({ ...ctx.base, axis: bounds.axis + 1, start: bounds.start, end: bounds.end }), one(inputs));
    },
  },
  temporal_shift: {
    emit: (node, inputs, ctx) => {
      const plan = temporalShiftPlan(ctx.inputShapes[0]!, node.args);
      if (isInferError(plan)) throw new Error(`internal: ${node.name}: ${plan.error}`);
      return apply(new VnetTemporalShift({ ...ctx.base, ...plan }), one(inputs));
    },
  },
  score_fusion: {
    emit: (node, inputs, ctx) =>
      apply(
        new VnetScoreFusion({
          ...ctx.base,
          average: node.args.average === "logits" ? "logits" : "softmax",
          streamWeights: node.args.weights ? [...(node.args.weights as number[])] : null,
        }),
        inputs,
      ),
  },
  stack_frames: { emit: (_node, inputs, ctx) => apply(new VnetStackFrames(ctx.base), one(inputs)) },
  boundary_matching: {
    emit: (node, inputs, ctx) => {
      const a = node.args;
      const durations = (a.durations as number | undefined) ?? ctx.inputShapes[0]![0]!;
      return apply(
        new VnetBoundaryMatching({
          ...ctx.base,
          samples: a.num_samples as number,
          perBin: a.num_samples_per_bin as number,
          boundaryRatio: a.boundary_ratio as number,
          durations,
        }),
        one(inputs),
      );
    },
  },
  roi_align: {
    emit: (node, inputs, ctx) => apply(new VnetRoiAlign({ ...ctx.base, ...roiAlignGeometry(node.args) }), inputs),
  },
  subsample: {
    emit: (node, inputs, ctx) =>
      apply(new VnetSelectFrames({ ...ctx.base, indices: subsampleIndices(ctx.inputShapes[0]![0]!, node.args), keepTime: true }), one(inputs)),
  },
  frame: {
    emit: (node, inputs, ctx) =>
      apply(new VnetSelectFrames({ ...ctx.base, indices: [frameIndex(ctx.inputShapes[0]![0]!, node.args)], keepTime: false }), one(inputs)),
  },
  lstm: recurrentEmitter("lstm"),
  gru: recurrentEmitter("gru"),
  conv_lstm: { emit: (node, inputs, ctx) => apply(new VnetConvLstm2d(convRecurrentArgs(node, ctx)), one(inputs)) },
  conv_gru: { emit: (node, inputs, ctx) => apply(new VnetConvGru2d(convRecurrentArgs(node, ctx)), one(inputs)) },
  nl_attention: {
    emit: (node, inputs, ctx) =>
      apply(
        new VnetNonLocalAttention({ ...ctx.base, mode: (node.args.mode as "embedded_gaussian" | "dot" | "gaussian" | undefined) ?? "embedded_gaussian" }),
        inputs,
      ),
  },
  fold_time: { emit: (_node, inputs, ctx) => apply(new VnetFoldTime(ctx.base), one(inputs)) },
  unfold_time: { emit: (node, inputs, ctx) => apply(new VnetUnfoldTime({ ...ctx.base, frames: node.args.frames as number }), one(inputs)) },
};

/** tfjs's rule for tensor names, which its layer and weight names must follow. */
const TFJS_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

/** Why each node the tfjs backend cannot lower fails, as located diagnostics (empty when all can). */
export function checkTfjsSupport(graph: IrGraph): Diagnostic[] {
  const shapes = new Map(graph.nodes.map((n) => [n.id, n.shape]));
  const diagnostics: Diagnostic[] = [];
  const badNames = new Set<string>();
  for (const node of graph.nodes) {
    // One diagnostic per offending name segment (a block instance names all the layers in it).
    const first = node.name.split(".")[0]!;
    if (!TFJS_NAME.test(node.name) && !badNames.has(first)) {
      badNames.add(first);
      diagnostics.push({
        code: TFJS_UNSUPPORTED,
        severity: "error",
        message: `cannot compile \`${node.name}\` to tfjs: tfjs names must start with a letter or a digit`,
        file: node.origin.file,
        range: node.origin.range,
        hint: `rename \`${first}\` to \`${first.replace(/^[^A-Za-z0-9]+/, "") || "x"}\``,
      });
    }
    if (node.op === "input") continue;
    const emitter = EMITTERS[node.op];
    const reason = emitter
      ? emitter.unsupported?.(
          node,
          node.inputs.map((i) => shapes.get(i)!),
        )
      : `the tfjs backend has no lowering for \`${node.op}\``;
    if (reason) {
      diagnostics.push({
        code: TFJS_UNSUPPORTED,
        severity: "error",
        message: `cannot compile layer \`${node.name}\` to tfjs: ${reason}`,
        file: node.origin.file,
        range: node.origin.range,
      });
    }
  }
  const tooLarge = weightsTooLarge(graph);
  if (tooLarge) diagnostics.push(tooLarge);
  return diagnostics;
}

/** Values one Float32Array holds (V8's limit); a weight past it cannot be allocated at all. */
const MAX_ARRAY_VALUES = 2 ** 32;

/**
 * The weights tfjs would allocate, as float32: refused with a located diagnostic, before any
 * allocation, when one weight holds more values than an array can or all of them need more bytes
 * than the machine's memory (a spec that checks, e.g. `dense(10000000) -> dense(10000000)`, once
 * failed with `internal error: Invalid typed array length`).
 */
function weightsTooLarge(graph: IrGraph): Diagnostic | undefined {
  let total = 0;
  let largest: { node: IrNode; values: number } | undefined;
  for (const { node, decl } of declaredWeights(graph)) {
    const values = decl.shape.reduce((a, b) => a * b, 1);
    total += values;
    if (!largest || values > largest.values) largest = { node, values };
  }
  if (!largest) return undefined;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const reason =
    largest.values > MAX_ARRAY_VALUES
      ? `a weight of \`${largest.node.name}\` holds ${largest.values.toExponential(2)} values, more than one array holds (2^32)`
      : total * 4 > os.totalmem()
        ? `its weights need ${gib(total * 4)} as float32, more than this machine's ${gib(os.totalmem())} of memory (the largest is \`${largest.node.name}\`'s)`
        : undefined;
  if (!reason) return undefined;
  return {
    code: TFJS_UNSUPPORTED,
    severity: "error",
    message: `cannot compile \`${graph.name}\` to tfjs: ${reason}`,
    file: largest.node.origin.file,
    range: largest.node.origin.range,
    hint: "use smaller widths or kernels (`vnet summary` lists each layer's parameters)",
  };
}

/**
 * Builds the tfjs model of a fully lowered graph (see `runPipeline`). Returns diagnostics instead
 * of a model when some node is unsupported; throws only on a compiler bug (a graph that did not go
 * through the pipeline, or a layer whose shape differs from the IR's).
 */
export function emitTfjs(graph: IrGraph, options: TfjsEmitOptions = {}): TfjsEmitResult {
  const missing = PIPELINE.filter((p) => !graph.passes.includes(p.name)).map((p) => p.name);
  if (missing.length) throw new Error(`internal: emitTfjs needs a lowered graph; missing passes: ${missing.join(", ")}`);
  const diagnostics = checkTfjsSupport(graph);
  if (diagnostics.length) return { diagnostics };
  const seed = options.seed ?? 0;
  const zeroInit = options.zeroInit === true;
  const tensors = new Map<number, Symbolic>();
  const shapes = new Map<number, readonly number[]>();
  for (const node of graph.nodes) {
    let out: Symbolic;
    if (node.op === "input") {
      out = tf.input({ shape: [...node.shape], name: node.name });
    } else {
      const weightName = (role: WeightRole) => `${node.name}.${role}`;
      const ctx: EmitContext = {
        inputShapes: node.inputs.map((i) => shapes.get(i)!),
        base: { name: node.name, trainable: !node.frozen },
        seed: (role) => weightSeed(seed, weightName(role)),
        init: (role, kind) => makeInitializer(kind, weightSeed(seed, weightName(role)), zeroInit),
        zeroInit,
      };
      out = EMITTERS[node.op]!.emit(
        node,
        node.inputs.map((i) => tensors.get(i)!),
        ctx,
      );
    }
    const expected = [null, ...node.shape].join();
    if (out.shape.join() !== expected) {
      throw new Error(`internal: tfjs layer ${node.name} (${node.op}) has shape [${out.shape.join(", ")}], the IR says [${expected}]`);
    }
    tensors.set(node.id, out);
    shapes.set(node.id, node.shape);
  }
  // Graph inputs in the order the network declares them (the order of model.predict's inputs).
  const model = tf.model({ inputs: graph.inputs.map((i) => tensors.get(i.node)!), outputs: graph.outputs.map((o) => tensors.get(o)!), name: graph.name });
  return { model, diagnostics: [] };
}
