/**
 * The seam between the training loop (src/runtime/train.ts) and a task: a `TaskTrainer` gives the
 * loop the batches of an epoch, each with its loss, and a validation pass; the helpers here are
 * what every task's trainer shares (a resumable epoch order, the L2 term).
 */
import * as tf from "@tensorflow/tfjs";
import type { DataIssue } from "../data/issues.js";
import { seededRandom } from "../data/motion.js";

/** One batch of training: its size, and its loss in training mode (with the correct predictions, for accuracy). */
export interface TrainingBatch {
  readonly size: number;
  objective(): { readonly loss: tf.Scalar; readonly correct?: tf.Scalar };
  dispose(): void;
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
  /** What the saved model records besides the network's name. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Inputs that failed to load and were left out. */
  readonly issues: readonly DataIssue[];
  /** The batches of one epoch, in an order fixed by the seed and the epoch (a resumed run sees the same). */
  epoch(epoch: number): { readonly steps: number; readonly batches: AsyncIterable<TrainingBatch> };
  validate(model: tf.LayersModel): Promise<Validation>;
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

/**
 * Adds the L2 term wd / 2 * sum(w^2) of every kernel to a loss: decay on kernels only, as the
 * usual recipes exclude biases and batch-norm parameters.
 */
export function weightDecayTerm(model: tf.LayersModel, weightDecay: number): (loss: tf.Scalar) => tf.Scalar {
  const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.name)).map((w) => w.read());
  if (weightDecay <= 0 || decayed.length === 0) return (loss) => loss;
  return (loss) => tf.add(loss, tf.mul(weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
}
