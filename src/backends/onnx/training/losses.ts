/**
 * Each task's loss in the training step: the label inputs it reads beside the model's inputs and
 * its formula, which is the task's own (src/semantics/tasks) evaluated on the graph through the
 * ONNX algebra (`algebra.ts`), the same code the tfjs engine runs:
 * - classification: softmax cross-entropy with label smoothing against one-hot `labels`
 *   [N, classes], from logits or from log(p + 1e-8) where the IR says a head outputs
 *   probabilities, summed over the towers of a separately trained score fusion; `scores` (what
 *   accuracy is read from) is an output;
 * - localization and detection: `taskLoss` (src/semantics/tasks) of the outputs against the
 *   target inputs `target/<key>`: BMN's `start` [N, T], `end` [N, T], `iou` [N, D, T], `mask`
 *   [D, T] and sampling noise `noiseMid`, `noiseLow` [N, D, T]; a detector's multi-hot `labels`
 *   [K, classes].
 */
import type { Diagnostic } from "../../../diagnostics/diagnostic.js";
import type { IrGraph } from "../../../ir/graph.js";
import { lossHeads, outputScores } from "../../../ir/scores.js";
import type { TensorAlgebra } from "../../../semantics/tasks/algebra.js";
import { softmaxCrossEntropy } from "../../../semantics/tasks/classification.js";
import { TASK_TARGETS, taskLoss, type TargetedTask } from "../../../semantics/tasks/index.js";
import type { TaskName } from "../../../semantics/tasks/names.js";
import type { GraphBuilder } from "../builder.js";
import { ONNX_OUTPUTS } from "../export.js";
import type { TrainingForward } from "./forward.js";

/** Names of the step's label input and its scores output (classification, detection). */
export const LABELS = "labels";
export const SCORES = "scores";

/** A label input of the step: what the task's loss compares the outputs with, fed every step. */
export interface TargetInput {
  readonly name: string;
  readonly dims: readonly number[];
}

/** The step's input holding the loss target `key` of a localizer or a detector (TASK_TARGETS). */
export function targetInput(key: string): string {
  return `target/${key}`;
}

interface LossContext {
  readonly graph: IrGraph;
  readonly forward: TrainingForward;
  readonly ops: TensorAlgebra<string>;
  readonly builder: GraphBuilder;
  readonly batch: number;
  readonly boxes: number;
  readonly labelSmoothing: number;
}

export interface TaskLoss {
  /** Why the step cannot take this network's loss (located), if it cannot. */
  check?(graph: IrGraph): Diagnostic[];
  /** The label inputs, for a step of `batch` examples (and `boxes` boxes). */
  targets(graph: IrGraph, batch: number, boxes: number): TargetInput[];
  /** Emits the loss (a scalar tensor) over the forward pass and the label inputs. */
  emit(ctx: LossContext): string;
}

const outputNode = (graph: IrGraph, i = 0) => graph.nodes.find((n) => n.id === graph.outputs[i])!;
const classesOf = (graph: IrGraph) => outputNode(graph).shape.at(-1) ?? 0;
/** The task's loss of the outputs (channels-last, as the formula reads them) against the target inputs. */
function targetedLoss(ctx: LossContext, task: TargetedTask): string {
  const outputs = ctx.graph.outputs.map((id) => ctx.forward.arrangeLast(ctx.forward.values.get(id)!));
  return taskLoss(ctx.ops, task, outputs, Object.fromEntries(TASK_TARGETS[task].map((key) => [key, targetInput(key)])));
}

const classification: TaskLoss = {
  check(graph) {
    return lossHeads(graph)
      .map((head) => graph.nodes.find((n) => n.id === head.node)!)
      .filter((head) => head.shape.length !== 1)
      .map(
        (head): Diagnostic => ({
          code: ONNX_OUTPUTS,
          severity: "error",
          message: `cannot train \`${graph.name}\`: its trained output \`${head.name}\` is [N, ${head.shape.join(", ")}], and the loss takes class scores [N, classes]`,
          file: head.origin.file,
          range: head.origin.range,
          hint: "end the network in a classifier (global_avg_pool -> dense(classes))",
        }),
      );
  },
  targets: (graph, batch) => [{ name: LABELS, dims: [batch, classesOf(graph)] }],
  emit(ctx) {
    const { graph, forward, ops } = ctx;
    // Logits, or log-probabilities where the IR says probabilities.
    const logitsOf = (id: number) => {
      const value = forward.values.get(id)!.name;
      return outputScores(graph, id).kind === "logits" ? value : ops.log(ops.add(value, ops.scalar(1e-8)));
    };
    const losses = lossHeads(graph).map((head) => softmaxCrossEntropy(ops, logitsOf(head.node), LABELS, ctx.labelSmoothing));
    ctx.builder.output(logitsOf(graph.outputs[0]!), SCORES, [ctx.batch, classesOf(graph)]);
    return losses.reduce((a, b) => ops.add(a, b));
  },
};

const localization: TaskLoss = {
  targets(graph, batch) {
    const [t] = graph.inputs[0]!.shape as [number];
    const [d] = outputNode(graph, 2).shape as [number];
    const dims: Readonly<Record<string, number[]>> = {
      start: [batch, t],
      end: [batch, t],
      iou: [batch, d, t],
      mask: [d, t],
      noiseMid: [batch, d, t],
      noiseLow: [batch, d, t],
    };
    return TASK_TARGETS.localization.map((key) => ({ name: targetInput(key), dims: dims[key]! }));
  },
  emit: (ctx) => targetedLoss(ctx, "localization"),
};

const detection: TaskLoss = {
  targets: (graph, _batch, boxes) => [{ name: targetInput("labels"), dims: [boxes, classesOf(graph)] }],
  emit: (ctx) => targetedLoss(ctx, "detection"),
};

/** The loss of every task. */
export const TASK_LOSSES: Readonly<Record<TaskName, TaskLoss>> = { classification, localization, detection };
