/**
 * The seam between the one training loop (src/runtime/train.ts) and a task. A `TaskTrainer`
 * holds the training engine it started (the loop checkpoints it, asks it for the trained model
 * and disposes of it), gives the loop the steps of an epoch (each one optimizer step of the
 * engine at the loop's learning rate) and a validation pass. The loop owns the rest: resuming,
 * the schedule, progress, metrics.jsonl, checkpoint files, the non-finite-loss stop.
 * Classification's trainer is in train.ts, a localizer's in localization/train.ts.
 */
import type { DataIssue } from "../data/issues.js";
import { seededRandom } from "../data/motion.js";
import type { TrainingEngine } from "./engines/engine.js";

/** What the loop uses of an engine: its description, its state as a checkpoint, the trained model. */
export type EngineState = Pick<TrainingEngine, "description" | "checkpoint" | "model" | "dispose">;

/** One training step: its examples, and the optimizer step itself (the batch's loss; right predictions where the task has accuracy). */
export interface TaskStep {
  readonly size: number;
  run(lr: number, dropoutSeed: number): Promise<{ readonly loss: number; readonly correct?: number }>;
}

/** A validation pass: the loss in inference mode, accuracy where the task has one, and the task's figures. */
export interface Validation {
  readonly loss: number;
  readonly accuracy?: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** What training needs of a task and its dataset; see the file comment. */
export interface TaskTrainer {
  /** What the examples are, for the progress line: "clips", "videos". */
  readonly unit: string;
  /** The dataset's class names (label order), recorded with the checkpoint. */
  readonly classNames: readonly string[];
  readonly engine: EngineState;
  /** Why this engine (empty when it was asked for). */
  readonly reason: string;
  /** Inputs that failed to load and were left out. */
  readonly issues: readonly DataIssue[];
  /** The steps of one epoch, in an order fixed by the seed and the epoch (a resumed run sees the same). */
  epoch(epoch: number): { readonly steps: number; readonly batches: AsyncIterable<TaskStep> };
  /** Validation with the engine's current weights. */
  validate(): Promise<Validation>;
  /** Releases the task's data (loaders, constant tensors); the loop disposes of the engine. */
  close(): Promise<void>;
}

/** A deterministic permutation of 0..n-1 for one epoch, so a resumed run sees the same order. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const random = seededRandom((seed * 1000003 + epoch * 7919 + 17) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
