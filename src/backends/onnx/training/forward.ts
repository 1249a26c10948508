/**
 * The forward pass of a training step: the ONNX exporter's emitter table, with training-mode
 * overrides where training computes something else than inference, and the weights the step
 * updates bound to graph inputs instead of initializers. Overrides, each as vnet's tfjs layer
 * computes it in training (`fit`), so that the two engines train the same model:
 * - bn (not frozen): batch statistics (mean and biased variance over every axis but channels),
 *   y = (x - mean) * gamma / sqrt(var + eps) + beta; the moving statistics are updated as
 *   moving * m + batch * (1 - m) with m = 1 - the spec's (PyTorch) momentum and the unbiased
 *   variance (n / (n - 1)), and become outputs of the step. A frozen bn keeps its inference form;
 * - dropout: x times a mask that is an input of the step (0, or 1 / (1 - rate) for kept units),
 *   drawn by the runtime from its seeded generator so that a resumed run draws the same masks;
 * - lstm / gru: unrolled over the clip's frames in Keras's gate order (LSTM i, f, c, o; GRU z, r, h
 *   with the reset gate applied before the recurrent product), sigmoid gates, zero initial state,
 *   so that their weights stay in vnet's layout and every step is made of differentiable primitives;
 *   their `dropout` masks the inputs with one mask per sequence (another input of the step);
 * - roi_align: ONNX's RoiAlign has no gradient in stock ONNX Runtime, so the step multiplies the
 *   map's positions [N x H x W, C] by the boxes' sampling matrix [K x PH x PW, N x H x W]
 *   (src/ops/roi-align.ts, what the tfjs layer multiplies by), an input the runtime computes from
 *   the batch's boxes: MatMul, whose VJP gives the features' gradient (the boxes get none).
 * Per-box tensors (after a roi_align) have K rows, the step's box count, instead of the batch.
 * Every weight and statistic is a graph input named as the IR names it
 * (`layer1.0.conv1.conv3d.kernel`), in ONNX's layout, so the runtime holds each one once, between
 * steps and across sessions; the step updates the trainable ones and the statistics it recomputes.
 */
import type { IrGraph, IrNode, WeightDecl } from "../../../ir/graph.js";
import { attr, type GraphBuilder } from "../builder.js";
import { emitNode, emitterFor, type Emitter, type EmitContext, type EmitState, type WeightConversion } from "../emit.js";
import { emitInputs } from "../inputs.js";
import { Arranger, channelsFirst, channelsLast, type Value } from "../layout.js";
import { reversibleLayout, type ReversibleLayout, type WeightSource } from "../weights.js";
import { roiAlignGeometry, type RoiAlignGeometry, type RoiAlignMap } from "../../../ops/roi-align.js";

/** A tensor the training step reads as an input and (for state it updates) writes as an output. */
export interface BoundWeight {
  readonly decl: WeightDecl;
  /** The graph input's name (the IR's weight name). */
  readonly input: string;
  /** Dims of the graph input (ONNX layout). */
  readonly dims: readonly number[];
  /** How vnet's values become the input's layout and back; undefined when they are the same. */
  readonly layout?: ReversibleLayout;
}

/** A dropout mask the runtime feeds: 0 or `scale` per element. */
export interface DropoutMask {
  readonly input: string;
  /** Without the batch axis, in the graph input's order. */
  readonly shape: readonly number[];
  /** Rows per example: the mask's first axis is batch x this (the frames of a clip inside per_frame). */
  readonly rows: number;
  readonly rate: number;
  /** The value of a kept unit, 1 / (1 - rate) as float32 arithmetic gives it. */
  readonly scale: number;
  /** The mask is per box: its first axis is the step's box count K x rows, not the batch's. */
  readonly perBox?: true;
}

/** A roi_align's sampling matrix [K x PH x PW, N x H x W], fed per step from the boxes (`roiAlignMatrix`). */
export interface RoiSampling {
  readonly input: string;
  /** The model input holding the boxes [K, 5]. */
  readonly boxes: string;
  readonly map: RoiAlignMap;
  readonly geometry: RoiAlignGeometry;
}

/** The new value of a batch-norm moving statistic. */
export interface StatisticUpdate {
  readonly decl: WeightDecl;
  /** The tensor holding the updated value. */
  readonly next: string;
}

export interface TrainingForward {
  /** Each IR node's value. */
  readonly values: ReadonlyMap<number, Value>;
  readonly weights: readonly BoundWeight[];
  readonly masks: readonly DropoutMask[];
  readonly statistics: readonly StatisticUpdate[];
  readonly rois: readonly RoiSampling[];
  /** A value's tensor channels-last, as the IR (and tfjs) hold it. */
  arrangeLast(value: Value): string;
  /** For each IR node, the ONNX nodes it emitted [first, end) (to locate a problem at its layer). */
  readonly spans: ReadonlyMap<number, readonly [number, number]>;
}

export interface TrainingForwardOptions {
  /** The batch size the step is built for (batch-norm counts and mask shapes depend on it). */
  readonly batch: number;
  /** A detector's box count K: the rows of every per-box tensor. */
  readonly boxes?: number;
  /** "train" (default): the training-mode overrides; "infer": the exporter's emitters only, batch left symbolic. */
  readonly mode?: "train" | "infer";
}

/** Every weight is bound to an input, so no emitter reads weight values. */
const NO_VALUES: WeightSource = {
  description: "the training step's inputs",
  shapeOf: (decl) => decl.shape,
  read: (decl) => {
    throw new Error(`internal: ${decl.name} is an input of the training step`);
  },
};

const fround = Math.fround;

function reshape(ctx: EmitContext, input: string, shape: readonly number[], part: string): string {
  return ctx.graph.op("Reshape", [input, ctx.graph.intConstant(`${ctx.name(part)}/shape`, [shape.length], shape)], ctx.name(part));
}

function scalar(ctx: EmitContext, value: number, part: string): string {
  return ctx.graph.floatConstant(ctx.name(part), [], [value]);
}

function splitInto(ctx: EmitContext, input: string, axis: number, sizes: readonly number[], part: string): string[] {
  const outputs = sizes.map((_, i) => `${ctx.name(part)}_${i}`);
  return ctx.graph.node("Split", [input, ctx.graph.intConstant(`${ctx.name(part)}/split`, [sizes.length], sizes)], outputs, { axis: attr.int(axis) });
}

const result = (ctx: EmitContext, name: string, order: readonly number[]): Value => ({ name, order, shape: ctx.node.shape });

/** Batch normalisation with batch statistics; records the moving statistics' updates. */
function batchNorm(batch: number, updates: StatisticUpdate[]): Emitter {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const rank = x.order.length;
    const order = channelsFirst(rank);
    const input = ctx.arrange(x, order);
    const channels = x.shape.at(-1)!;
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const perChannel = [1, channels, ...axes.slice(1).map(() => 1)];
    const op = (type: string, inputs: string[], part: string, attributes = {}) => ctx.graph.op(type, inputs, ctx.name(part), attributes);
    const mean = op("ReduceMean", [input], "batch_mean", { axes: attr.ints(axes), keepdims: attr.int(1) });
    const centred = op("Sub", [input, mean], "centred");
    const variance = op("ReduceMean", [op("Mul", [centred, centred], "squared")], "batch_variance", { axes: attr.ints(axes), keepdims: attr.int(1) });
    const eps = ctx.node.args.eps as number;
    const gamma = reshape(ctx, ctx.weight("gamma"), perChannel, "gamma_c");
    const beta = reshape(ctx, ctx.weight("beta"), perChannel, "beta_c");
    // As the tfjs layer: scale = gamma / sqrt(var + eps), y = (x - mean) * scale + beta.
    const inverseStd = op("Reciprocal", [op("Sqrt", [op("Add", [variance, scalar(ctx, eps, "eps")], "var_eps")], "std")], "inverse_std");
    const y = op("Add", [op("Mul", [centred, op("Mul", [gamma, inverseStd], "scale")], "scaled"), beta], "");

    const keep = fround(1 - (ctx.node.args.momentum as number));
    const count = batch * x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const flat = (v: string, part: string) => reshape(ctx, v, [channels], part);
    const unbiased =
      count > 1 ? op("Mul", [flat(variance, "variance_flat"), scalar(ctx, count / (count - 1), "bessel")], "unbiased") : flat(variance, "variance_flat");
    const moving = (role: "moving_mean" | "moving_variance", batchValue: string) => {
      const decl = ctx.node.weights!.find((w) => w.role === role)!;
      const old = ctx.weight(role);
      const next = op(
        "Add",
        [
          op("Mul", [old, scalar(ctx, keep, `${role}/keep`)], `${role}/kept`),
          op("Mul", [batchValue, scalar(ctx, fround(1 - keep), `${role}/take`)], `${role}/taken`),
        ],
        `${role}/next`,
      );
      updates.push({ decl, next });
    };
    moving("moving_mean", flat(mean, "mean_flat"));
    moving("moving_variance", unbiased);
    return result(ctx, y, order);
  };
}

/** Dropout as a product with a mask input. */
function dropout(masks: DropoutMask[], rows: Rows): Emitter {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const rate = (ctx.node.args.rate as number | undefined) ?? 0;
    if (!(rate > 0)) return x;
    const shape = x.order.slice(1).map((a) => x.shape[a - 1]!);
    const input = maskInput(ctx, masks, "mask", shape, rows, rate);
    return { name: ctx.graph.op("Mul", [x.name, input], ctx.name()), order: x.order, shape: ctx.node.shape };
  };
}

/** How many rows an IR node's tensors have: `count` (the batch N, or K boxes where `perBox`) x `perExample` (a clip's frames inside per_frame). */
interface Rows {
  readonly count: number;
  readonly perExample: number;
  readonly perBox: boolean;
  /** The batch N (a roi_align's map). */
  readonly batch: number;
}

/** A dropout mask input `<layer>/<part>` [rows, ...shape] of 0 or 1 / (1 - rate), recorded for the runtime to draw. */
function maskInput(ctx: EmitContext, masks: DropoutMask[], part: string, shape: readonly number[], rows: Rows, rate: number): string {
  const input = ctx.graph.input(`${ctx.name()}/${part}`, [rows.count * rows.perExample, ...shape]);
  masks.push({ input, shape, rows: rows.perExample, rate, scale: fround(1 / fround(1 - rate)), ...(rows.perBox ? { perBox: true as const } : {}) });
  return input;
}

/** What the emitters record while the forward pass is emitted, and where a roi_align's boxes come from. */
interface Recorded {
  readonly masks: DropoutMask[];
  readonly statistics: StatisticUpdate[];
  readonly rois: RoiSampling[];
  readonly boxesOf: (id: number) => string;
}

/** RoIAlign as the sampling matrix (an input) times the map's positions. */
function roiAlignByMatrix(rois: RoiSampling[], boxes: string, rows: Rows): Emitter {
  return (ctx) => {
    const features = ctx.inputs[0]!;
    const [height, width, channels] = features.shape as [number, number, number];
    const geometry = roiAlignGeometry(ctx.node.args);
    const [ph, pw] = geometry.resolution;
    const columns = rows.batch * height * width;
    const positions = reshape(ctx, ctx.arrange(features, channelsLast(4)), [columns, channels], "positions");
    const input = ctx.graph.input(`${ctx.name()}/samples`, [rows.count * ph * pw, columns]);
    rois.push({ input, boxes, map: { batch: rows.batch, height, width }, geometry });
    const bins = ctx.graph.op("MatMul", [input, positions], ctx.name("bins"));
    return result(ctx, reshape(ctx, bins, [rows.count, ph, pw, channels], ""), channelsLast(4));
  };
}

/** LSTM / GRU unrolled over time in Keras's gate layout (the weights stay as vnet holds them). */
function recurrent(cell: "lstm" | "gru", masks: DropoutMask[], rows: Rows, train: boolean): Emitter {
  const gates = cell === "lstm" ? 4 : 3;
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const [frames, features] = x.shape as [number, number];
    const units = ctx.node.args.units as number;
    const op = (type: string, inputs: string[], part: string) => ctx.graph.op(type, inputs, ctx.name(part));
    let sequence = ctx.arrange(x, channelsLast(3));
    const rate = (ctx.node.args.dropout as number | undefined) ?? 0;
    if (train && rate > 0) {
      const input = maskInput(ctx, masks, "input_mask", [features], rows, rate);
      const lifted = ctx.graph.op("Unsqueeze", [input, ctx.graph.intConstant(`${ctx.name("mask_axis")}`, [1], [1])], ctx.name("input_mask_t"));
      sequence = op("Mul", [sequence, lifted], "masked");
    }
    // Input terms of every step at once: [N, T, gates * U].
    const inputTerms = op("Add", [op("MatMul", [sequence, ctx.weight("kernel")], "input_product"), ctx.weight("bias")], "input_terms");
    const steps = splitInto(ctx, inputTerms, 1, new Array<number>(frames).fill(1), "steps").map((s, t) => reshape(ctx, s, [0, gates * units], `t${t}/input`));
    const recurrentKernel = ctx.weight("recurrent_kernel");
    const [gateKernel, candidateKernel] =
      cell === "gru" ? splitInto(ctx, recurrentKernel, 1, [2 * units, units], "recurrent_parts") : [recurrentKernel, undefined];
    let h: string | undefined;
    let c: string | undefined;
    const outputs: string[] = [];
    for (let t = 0; t < frames; t++) {
      if (cell === "lstm") {
        const z = h ? op("Add", [steps[t]!, op("MatMul", [h, gateKernel!], `t${t}/state_product`)], `t${t}/z`) : steps[t]!;
        const [zi, zf, zc, zo] = splitInto(ctx, z, 1, new Array<number>(4).fill(units), `t${t}/gates`);
        const i = op("Sigmoid", [zi!], `t${t}/i`);
        const candidate = op("Tanh", [zc!], `t${t}/g`);
        const input = op("Mul", [i, candidate], `t${t}/ig`);
        c = c ? op("Add", [op("Mul", [op("Sigmoid", [zf!], `t${t}/f`), c], `t${t}/fc`), input], `t${t}/c`) : input;
        h = op("Mul", [op("Sigmoid", [zo!], `t${t}/o`), op("Tanh", [c], `t${t}/tanh_c`)], `t${t}/h`);
      } else {
        const [xz, xr, xh] = splitInto(ctx, steps[t]!, 1, [units, units, units], `t${t}/input_gates`) as [string, string, string];
        if (h) {
          const [hz, hr] = splitInto(ctx, op("MatMul", [h, gateKernel!], `t${t}/state_product`), 1, [units, units], `t${t}/state_gates`);
          const z = op("Sigmoid", [op("Add", [xz, hz!], `t${t}/z_sum`)], `t${t}/z`);
          const r = op("Sigmoid", [op("Add", [xr, hr!], `t${t}/r_sum`)], `t${t}/r`);
          const candidate = op(
            "Tanh",
            [op("Add", [xh, op("MatMul", [op("Mul", [r, h], `t${t}/rh`), candidateKernel!], `t${t}/candidate_product`)], `t${t}/h_sum`)],
            `t${t}/candidate`,
          );
          const keep = op("Sub", [scalar(ctx, 1, `t${t}/one`), z], `t${t}/one_minus_z`);
          h = op("Add", [op("Mul", [z, h], `t${t}/zh`), op("Mul", [keep, candidate], `t${t}/new`)], `t${t}/h`);
        } else {
          const z = op("Sigmoid", [xz], `t${t}/z`);
          h = op("Mul", [op("Sub", [scalar(ctx, 1, `t${t}/one`), z], `t${t}/one_minus_z`), op("Tanh", [xh], `t${t}/candidate`)], `t${t}/h`);
        }
      }
      outputs.push(h);
    }
    if (ctx.node.args.sequences !== "all") return result(ctx, h!, [0, 1]);
    const lifted = outputs.map((o, t) => ctx.graph.op("Unsqueeze", [o, ctx.graph.intConstant(ctx.name(`t${t}/time_axis`), [1], [1])], ctx.name(`t${t}/step`)));
    return result(ctx, ctx.graph.op("Concat", lifted, ctx.name(), { axis: attr.int(1) }), [0, 1, 2]);
  };
}

/**
 * The emitter of a node in a training step: an override where training differs from inference,
 * else the exporter's. In "infer" mode only the recurrent layers are overridden (unrolled, so
 * that their weights keep vnet's layout).
 */
function trainingEmitter(node: IrNode, mode: "train" | "infer", rows: Rows, out: Recorded): Emitter | undefined {
  const train = mode === "train";
  const masks = out.masks;
  switch (node.op) {
    case "bn":
      return node.frozen || !train ? emitterFor("bn") : batchNorm(rows.count * rows.perExample, out.statistics);
    case "dropout":
      return train ? dropout(masks, rows) : emitterFor("dropout");
    case "lstm":
    case "gru":
      return recurrent(node.op, masks, rows, train);
    case "roi_align":
      return train ? roiAlignByMatrix(out.rois, out.boxesOf(node.inputs[1]!), rows) : emitterFor("roi_align");
    default:
      return emitterFor(node.op);
  }
}

/** Ops that have a training-mode emitter (for the support check). */
export function hasTrainingEmitter(op: string): boolean {
  return op === "lstm" || op === "gru" || op === "dropout" || op === "bn" || emitterFor(op) !== undefined;
}

/**
 * Emits the training-mode forward pass of a lowered graph into `builder` (or, with mode "infer",
 * the inference forward pass with the same inputs, recurrent layers unrolled): graph inputs for the model's inputs (as the
 * exported model reads them), for every weight and statistic, and for dropout masks.
 */
export function emitTrainingForward(builder: GraphBuilder, graph: IrGraph, options: TrainingForwardOptions): TrainingForward {
  const weights: BoundWeight[] = [];
  const bindWeight = (decl: WeightDecl, convert: WeightConversion | undefined): string | undefined => {
    const layout = convert ? reversibleLayout(convert) : undefined;
    if (convert && !layout) throw new Error(`internal: the weight ${decl.name} is converted in a way a training step cannot reverse`);
    const dims = layout ? layout.onnxDims(decl.shape) : [...decl.shape];
    const existing = weights.find((w) => w.decl.name === decl.name);
    if (existing) return existing.input;
    const input = builder.input(decl.name, dims);
    weights.push({ decl, input, dims, ...(layout ? { layout } : {}) });
    return input;
  };
  const state: EmitState = { graph: builder, arranger: new Arranger(builder), weights: NO_VALUES, bindWeight };
  const masks: DropoutMask[] = [];
  const statistics: StatisticUpdate[] = [];
  const rois: RoiSampling[] = [];
  const values = emitInputs(state, graph);
  const boxesOf = (id: number) => graph.inputs.find((i) => i.node === id)!.name;
  // Nodes with one row per box: a roi_align and everything computed from its output.
  const perBox = new Set<number>();
  const spans = new Map<number, readonly [number, number]>();
  // Rows of each node's tensors per example: inside a lowered per_frame, a clip's frames are rows of the batch.
  const rows = new Map<number, number>();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const node of graph.nodes) {
    const from = node.inputs.length ? rows.get(node.inputs[0]!)! : 1;
    rows.set(
      node.id,
      node.op === "fold_time" ? from * byId.get(node.inputs[0]!)!.shape[0]! : node.op === "unfold_time" ? from / (node.args.frames as number) : from,
    );
    if (node.op === "input") continue;
    if (node.op === "roi_align" || node.inputs.some((i) => perBox.has(i))) perBox.add(node.id);
    const boxRows = perBox.has(node.id);
    const nodeRows: Rows = {
      count: boxRows ? (options.boxes ?? 0) : options.batch,
      perExample: boxRows ? 1 : (rows.get(node.inputs[0]!) ?? 1),
      perBox: boxRows,
      batch: options.batch,
    };
    const emitter = trainingEmitter(node, options.mode ?? "train", nodeRows, { masks, statistics, rois, boxesOf });
    if (!emitter) throw new Error(`internal: no emitter for ${node.op} (the support check runs first)`);
    const first = builder.nodeCount;
    values.set(
      node.id,
      emitNode(
        state,
        node,
        node.inputs.map((i) => values.get(i)!),
        emitter,
      ),
    );
    spans.set(node.id, [first, builder.nodeCount]);
  }
  return { values, weights, masks, statistics, rois, spans, arrangeLast: (value) => state.arranger.arrange(value, channelsLast(value.order.length)) };
}
