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
