/**
 * The training step as one ONNX model that the stock ONNX Runtime CPU build runs: the forward
 * pass in training mode (`forward.ts`), the loss, reverse-mode gradients from the VJP table
 * (`../autodiff`), and the optimizer update (`optimizer.ts`), built for one batch size (and, for a
 * detector, one box count).
 *
 * Inputs: the model's inputs as the exported model reads them (raw clips, external streams,
 * boxes), the task's label inputs (`losses.ts`: one-hot labels, BMN's targets, multi-hot box
 * labels), the learning rate, Adam's bias corrections, dropout masks, the roi_aligns' sampling
 * matrices, and the state: every weight and batch-norm statistic (ONNX layout, named as the IR
 * names them; frozen ones only read) and the optimizer's slots.
 * Outputs: `loss` (the task's loss plus the L2 term), for a classifier `scores` (the logits, or
 * log-probabilities, that accuracy is read from), and the next value of every state tensor
 * (`<name>/next`); or, in "gradients" mode, each trainable weight's gradient (`<name>/grad`)
 * instead of the optimizer's work.
 *
 * The loss is the task's formula (src/semantics/tasks) evaluated on the graph through
 * `algebra.ts`, the same code the tfjs engine runs.
 */
import type { Code } from "../../../diagnostics/codes.js";
import type { Diagnostic } from "../../../diagnostics/diagnostic.js";
import type { IrGraph, WeightDecl } from "../../../ir/graph.js";
import { outputScores, type ScoreKind } from "../../../ir/scores.js";
import { vnetVersion } from "../../../version.js";
import { differentiate, NotDifferentiable } from "../autodiff/differentiate.js";
import { Tape } from "../autodiff/tape.js";
import { attr, GraphBuilder } from "../builder.js";
import { checkOnnxSupport } from "../emit.js";
import { checkOutputs, ONNX_OPSET } from "../export.js";
import { onnxInputs, type OnnxInput } from "../inputs.js";
import { BATCH, BOX_ROWS } from "../layout.js";
import type { ReversibleLayout } from "../weights.js";
import { onnxAlgebra } from "./algebra.js";
import { emitTrainingForward, hasTrainingEmitter, type DropoutMask, type RoiSampling } from "./forward.js";
import { SCORES as SCORES_OUTPUT, TASK_LOSSES, type TargetInput } from "./losses.js";
import { emitUpdate, isDecayed, type OptimizerSpec } from "./optimizer.js";

/** Diagnostic code for a layer whose gradient the training step cannot build. */
export const ONNX_NOT_DIFFERENTIABLE: Code = "VN083";

/** Name of the step's loss output (the task's loss plus the L2 term). */
export const LOSS = "loss";
export { LABELS, SCORES, targetInput, type TargetInput } from "./losses.js";

export interface TrainingStepOptions {
  /** The batch size the step is built for. */
  readonly batch: number;
  readonly optimizer: OptimizerSpec;
  readonly weightDecay: number;
  /** Label smoothing of the cross-entropy (the targets become onehot (1 - s) + s / classes). */
  readonly labelSmoothing?: number;
  /** A detector's box count K (the step is built for one). */
  readonly boxes?: number;
  /** "update" (default): apply the optimizer; "gradients": output each trainable weight's gradient instead. */
  readonly mode?: "update" | "gradients";
}

/** A tensor of training state: read as an input, its next value an output. */
export interface StateTensor {
  readonly input: string;
  /** The output holding the next value (absent in "gradients" mode for weights and slots). */
  readonly next?: string;
  /** ONNX layout. */
  readonly dims: readonly number[];
  /** A trained weight, a weight the step keeps (frozen), a batch-norm moving statistic it updates, or an optimizer slot. */
  readonly kind: "weight" | "frozen" | "statistic" | "slot";
  /** The IR's weight (weights and statistics). */
  readonly decl?: WeightDecl;
  /** How vnet's layout becomes the input's and back (conv kernels). */
  readonly layout?: ReversibleLayout;
  /** For a slot: the weight's input and the kind of slot. */
  readonly of?: string;
  readonly slot?: "momentum" | "m" | "v";
}

export interface TrainingStepGraph {
  /** The model's bytes; absent when diagnostics say why the step cannot be built. */
  readonly bytes?: Uint8Array;
  readonly diagnostics: readonly Diagnostic[];
  readonly graph: IrGraph;
  readonly batch: number;
  /** A detector's box count K (0 for other tasks). */
  readonly boxes: number;
  readonly classes: number;
  /** The model's data inputs (as the exported model reads them). */
  readonly inputs: readonly OnnxInput[];
  /** The task's label inputs (see losses.ts). */
  readonly targets: readonly TargetInput[];
  /** The roi_aligns' sampling matrices, fed per step from the boxes. */
  readonly rois: readonly RoiSampling[];
  readonly masks: readonly DropoutMask[];
  readonly state: readonly StateTensor[];
  /** In "gradients" mode: each trainable weight's gradient output, by the weight's input. */
  readonly gradients: ReadonlyMap<string, string>;
  /** Whether Adam's bias corrections are inputs. */
  readonly adam: boolean;
  readonly nodes: number;
}

/** Builds the training step of a lowered graph (or diagnostics saying why it cannot be built). */
export function buildTrainingStep(graph: IrGraph, options: TrainingStepOptions): TrainingStepGraph {
  const inputs = onnxInputs(graph);
  const batch = options.batch;
  const classes = graph.nodes.find((n) => n.id === graph.outputs[0])!.shape.at(-1) ?? 0;
  const failed = (diagnostics: Diagnostic[]): TrainingStepGraph => ({
    diagnostics,
    graph,
    batch,
    boxes: options.boxes ?? 0,
    classes,
    inputs,
    targets: [],
    rois: [],
    masks: [],
    state: [],
    gradients: new Map(),
    adam: false,
    nodes: 0,
  });
  const unsupported = checkOnnxSupport(graph).filter((d) => {
    const node = graph.nodes.find((n) => n.origin.range === d.range && n.origin.file === d.file);
    return !node || !hasTrainingEmitter(node.op);
  });
  const diagnostics = [...unsupported, ...checkOutputs(graph, graph.task)];
  const loss = TASK_LOSSES[graph.task];
  diagnostics.push(...(loss.check?.(graph) ?? []));
  if (diagnostics.length) return failed(diagnostics);

  const builder = new GraphBuilder();
  for (const name of [LOSS, SCORES_OUTPUT]) builder.reserve(name);
  const boxes = options.boxes ?? 0;
  const forward = emitTrainingForward(builder, graph, { batch, boxes });
  const dims: Record<string, number> = { [BATCH]: batch, [BOX_ROWS]: boxes };
  // The task's label inputs, declared before the tape so that it knows their shapes.
  const targets = loss.targets(graph, batch, boxes).map((t) => ({ name: builder.input(t.name, t.dims), dims: t.dims }));
  const tape = new Tape(builder, dims);
  const ops = onnxAlgebra(tape, "loss");
  const taskLoss = loss.emit({ graph, forward, ops, builder, batch, boxes, labelSmoothing: options.labelSmoothing ?? 0 });

  const trainable = forward.weights.filter((w) => w.decl.trainable);
  let grads: Map<string, string>;
  try {
    grads = differentiate(
      tape,
      taskLoss,
      trainable.map((w) => w.input),
    );
  } catch (error) {
    if (!(error instanceof NotDifferentiable)) throw error;
    const index = builder.nodeList.indexOf(error.node.proto);
    const irNode = graph.nodes.find((n) => {
      const span = forward.spans.get(n.id);
      return span !== undefined && index >= span[0] && index < span[1];
    });
    const at = irNode ?? graph.nodes.find((n) => n.id === graph.outputs[0])!;
    return failed([
      {
        code: ONNX_NOT_DIFFERENTIABLE,
        severity: "error",
        message: `cannot train layer \`${at.name}\` (${at.op}) on ONNX Runtime: its ONNX operator ${error.node.op} has no gradient rule`,
        file: at.origin.file,
        range: at.origin.range,
        hint: "train this network with --engine tfjs, or freeze the layers before it",
      },
    ]);
  }

  // The L2 term of the loss (its gradient, wd * w, is added by the optimizer); decoupled decay
  // (AdamW) shrinks the weights instead and is no part of the loss.
  let objective = taskLoss;
  const decayed = trainable.filter(isDecayed);
  const decoupled = options.optimizer.kind === "adam" && options.optimizer.decoupled;
  if (options.weightDecay > 0 && decayed.length && !decoupled) {
    const squares = decayed.map((w) => builder.op("ReduceSumSquare", [w.input], `loss/l2/${w.input}`, { keepdims: attr.int(0) }));
    const total = squares.length === 1 ? squares[0]! : builder.op("Sum", squares, "loss/l2/sum");
    objective = builder.op(
      "Add",
      [taskLoss, builder.op("Mul", [total, builder.floatConstant("loss/l2/factor", [], [options.weightDecay / 2])], "loss/l2")],
      "loss/total",
    );
  }
  builder.output(objective, LOSS, []);

  const state: StateTensor[] = [];
  const gradients = new Map<string, string>();
  const declare = (name: string, dims: readonly number[]) => builder.declareOutput(name, dims);
  if (options.mode === "gradients") {
    for (const w of trainable) {
      const name = `${w.input}/grad`;
      builder.reserve(name);
      builder.output(grads.get(w.input)!, name, w.dims);
      gradients.set(w.input, name);
      state.push({ input: w.input, dims: w.dims, kind: "weight", decl: w.decl, ...(w.layout ? { layout: w.layout } : {}) });
    }
  } else {
    const update = emitUpdate(tape, trainable, grads, options.optimizer, options.weightDecay);
    for (const w of trainable) {
      const next = update.next.get(w.input)!;
      declare(next, w.dims);
      state.push({ input: w.input, next, dims: w.dims, kind: "weight", decl: w.decl, ...(w.layout ? { layout: w.layout } : {}) });
    }
    for (const s of update.slots) {
      const dims = trainable.find((w) => w.input === s.of)!.dims;
      declare(s.next, dims);
      state.push({ input: s.input, next: s.next, dims, kind: "slot", of: s.of, slot: s.slot });
    }
  }
  for (const w of forward.weights.filter((b) => !b.decl.trainable)) {
    const update = forward.statistics.find((u) => u.decl.name === w.decl.name);
    if (update) declare(update.next, w.dims);
    state.push({
      input: w.input,
      ...(update ? { next: update.next } : {}),
      dims: w.dims,
      kind: update ? "statistic" : "frozen",
      decl: w.decl,
      ...(w.layout ? { layout: w.layout } : {}),
    });
  }
  builder.fixDimension(BATCH, batch);
  builder.fixDimension(BOX_ROWS, boxes);
  const bytes = builder.serialize({
    name: `${graph.name}_training_step`,
    opset: ONNX_OPSET,
    producerVersion: vnetVersion(),
    docString: `training step of ${graph.name} from ${graph.file}, batch ${batch}`,
    metadata: {},
  });
  return {
    bytes,
    diagnostics: [],
    graph,
    batch,
    boxes,
    classes,
    inputs,
    targets,
    rois: forward.rois,
    masks: forward.masks,
    state,
    gradients,
    adam: options.optimizer.kind === "adam" && options.mode !== "gradients",
    nodes: builder.nodeCount,
  };
}

/** The output of the evaluation graph: the network's own (first) output, [N, classes] for a classifier, channels-last. */
export const OUTPUT = "output";

/** The evaluation graph's name of the network's output `index` (a localizer's three, in the graph's order): OUTPUT, then `output/1`, ... */
export const evaluationOutput = (index: number): string => (index === 0 ? OUTPUT : `${OUTPUT}/${index}`);

/** The inference forward pass with the training step's state as inputs: validation while training, without re-exporting. */
export interface EvaluationGraph {
  readonly bytes?: Uint8Array;
  readonly diagnostics: readonly Diagnostic[];
  readonly inputs: readonly OnnxInput[];
  /** Every output of the network in the graph's order (`evaluationOutput`), channels-last; a detector's has a row per box. */
  readonly outputs: readonly string[];
  /** Every weight and statistic, named and laid out as the training step's state. */
  readonly state: readonly StateTensor[];
  /** Whether OUTPUT holds logits or probabilities (the IR's answer). */
  readonly scores: ScoreKind;
}

/** Builds the evaluation graph of a lowered graph (batch dynamic). */
export function buildEvaluationGraph(graph: IrGraph): EvaluationGraph {
  const inputs = onnxInputs(graph);
  const scores = outputScores(graph).kind;
  const diagnostics = [...checkOnnxSupport(graph), ...checkOutputs(graph, graph.task)];
  const outputs = graph.outputs.map((_, i) => evaluationOutput(i));
  if (diagnostics.length) return { diagnostics, inputs, outputs, state: [], scores };
  const builder = new GraphBuilder();
  for (const name of outputs) builder.reserve(name);
  // Inference mode: roi_align is ONNX's RoiAlign, so the batch and the box count stay symbolic.
  const forward = emitTrainingForward(builder, graph, { batch: 0, mode: "infer" });
  graph.outputs.forEach((id, i) => {
    const value = forward.values.get(id)!;
    builder.output(forward.arrangeLast(value), outputs[i]!, [graph.task === "detection" ? BOX_ROWS : BATCH, ...value.shape]);
  });
  const state: StateTensor[] = forward.weights.map((w) => ({
    input: w.input,
    dims: w.dims,
    kind: w.decl.trainable ? "weight" : "frozen",
    decl: w.decl,
    ...(w.layout ? { layout: w.layout } : {}),
  }));
  const bytes = builder.serialize({
    name: `${graph.name}_evaluation`,
    opset: ONNX_OPSET,
    producerVersion: vnetVersion(),
    docString: `inference forward of ${graph.name} with its weights as inputs`,
    metadata: {},
  });
  return { bytes, diagnostics: [], inputs, outputs, state, scores };
}
