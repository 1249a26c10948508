/**
 * What a training engine does for the training loop (src/runtime/train.ts): one optimizer step
 * on a batch of loaded views, class scores of views for validation, and its state as an
 * engine-neutral checkpoint (src/runtime/checkpoint.ts). The loop owns everything else (data
 * loading, the learning-rate schedule, validation, metrics, checkpoint files), so both engines
 * share it: tfjs (`tfjs.ts`, autodiff in tfjs) and ONNX Runtime (`ort.ts`, the compiled training
 * step of src/backends/onnx/training).
 */
import type * as tf from "@tensorflow/tfjs";
import type { FlowStream } from "../../data/flow.js";
import type { LoadedViews } from "../../data/views.js";
import type { IrGraph } from "../../ir/graph.js";
import type { SamplingProtocol } from "../../semantics/protocol.js";
import type { CheckpointContents, Progress } from "../checkpoint.js";
import type { HostTensor } from "../onnx.js";

export type EngineName = "tfjs" | "ort";

/** Optimizer and loss settings an engine applies (the loop's TrainingConfig, less the schedule). */
export interface EngineConfig {
  readonly optimizer: "sgd" | "adam";
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly labelSmoothing: number;
}

/** One training batch: the views of each task (merged by the engine), labels, and the step's randomness. */
export interface TrainingBatch {
  readonly views: readonly LoadedViews[];
  readonly labels: readonly number[];
  /** Seed of this step's dropout masks (engines that draw their own), from the run's seed, epoch and step. */
  readonly dropoutSeed: number;
}

/** Class scores of a batch of views in inference mode: [views, classes] row-major. */
export type ViewScorer = (views: readonly LoadedViews[]) => Promise<{ readonly values: Float32Array; readonly classes: number }>;

/** Where an engine starts: fresh weights (seeded, then `init`), or a checkpoint's state. */
export type EngineStart =
  | { readonly kind: "fresh"; readonly init?: (model: tf.LayersModel) => void }
  | { readonly kind: "checkpoint"; readonly contents: CheckpointContents };

/** What building a trainable model needs, whatever its inputs are. */
export interface ModelSetup {
  /** The network's lowered graph: what both engines build their models from. */
  readonly graph: IrGraph;
  readonly config: EngineConfig;
  readonly seed: number;
  readonly start: EngineStart;
  /** Written into the model's metadata: what predicting with it needs. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A classifier's engine setup: the model, and how its clips are sampled and fed. */
export interface EngineSetup extends ModelSetup {
  readonly protocol: SamplingProtocol;
  readonly flows: readonly FlowStream[];
}

export interface TrainingEngine {
  readonly name: EngineName;
  /** How it runs, for the user: `tfjs (cpu backend)`, `ONNX Runtime 1.23 (cpu, 2 threads)`. */
  readonly description: string;
  /** One optimizer step at learning rate `lr`: the batch's loss and how many of its predictions were right. */
  step(batch: TrainingBatch, lr: number): Promise<{ loss: number; correct: number }>;
  /** Scores views with the current weights in inference mode. */
  readonly score: ViewScorer;
  /** The state as a checkpoint, with the loop's progress. */
  checkpoint(progress: Progress): Promise<CheckpointContents>;
  /** A tfjs model holding the current weights (the training result). */
  model(): Promise<tf.LayersModel>;
  dispose(): Promise<void>;
}

/**
 * One training batch of a localizer or a detector: the model's inputs in the graph's input order
 * (channels-last; a detector's boxes [K, 5]) and the loss's targets by key (TASK_TARGETS of
 * src/semantics/tasks), as host tensors.
 */
export interface TaskBatch {
  readonly inputs: readonly HostTensor[];
  readonly targets: Readonly<Record<string, HostTensor>>;
}

/** A task batch's examples N (rows of its first per-example input) and boxes K (rows of a detector's boxes input, else 0). */
export function taskBatchRows(graph: IrGraph, batch: TaskBatch): { readonly examples: number; readonly boxes: number } {
  const boxesAt = graph.inputs.findIndex((i) => i.boxes);
  const examplesAt = graph.inputs.findIndex((i) => !i.boxes);
  return { examples: batch.inputs[examplesAt]!.shape[0]!, boxes: boxesAt >= 0 ? batch.inputs[boxesAt]!.shape[0]! : 0 };
}

/**
 * A network's outputs in inference mode for a batch of its inputs (in the graph's input order),
 * every output channels-last in the graph's order: what validation and evaluation read, whichever
 * runtime holds the weights (an engine's current ones, a tfjs model, an exported model).
 */
export type TaskInference = (inputs: readonly HostTensor[]) => Promise<readonly HostTensor[]>;

/** What a localizer's or a detector's trainer needs of an engine: steps of the task's loss, and inference with the current weights for validation. */
export interface TaskEngine {
  readonly name: EngineName;
  readonly description: string;
  /** One optimizer step at learning rate `lr` on the task's loss (plus the L2 term): the loss. */
  minimizeTask(batch: TaskBatch, lr: number, dropoutSeed: number): Promise<number>;
  /** The network's outputs with the current weights (inference mode), on the engine's own runtime. */
  readonly infer: TaskInference;
  checkpoint(progress: Progress): Promise<CheckpointContents>;
  model(): Promise<tf.LayersModel>;
  dispose(): Promise<void>;
}
