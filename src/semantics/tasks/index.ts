/**
 * The task table: every task's contract (see contract.ts), by name; and the one loss function of
 * the tasks that train against named targets.
 */
import { classification } from "./classification.js";
import type { TensorAlgebra } from "./algebra.js";
import type { TaskContract, TaskName } from "./contract.js";
import { detection, sigmoidBinaryCrossEntropy } from "./detection.js";
import { bmnLoss, localization, type BmnTargets } from "./localization.js";

export * from "./contract.js";

export const TASKS: ReadonlyMap<TaskName, TaskContract> = new Map([classification, localization, detection].map((t) => [t.name, t]));

/** The contract of a task. */
export function taskContract(name: TaskName): TaskContract {
  return TASKS.get(name)!;
}

/** Tasks whose loss reads the network's outputs and named targets (classification's reads labels and heads: see classification.ts). */
export type TargetedTask = Exclude<TaskName, "classification">;

/** The keys of each targeted task's loss targets: what a training batch carries beside the model's inputs. */
export const TASK_TARGETS: Readonly<Record<TargetedTask, readonly string[]>> = {
  localization: ["start", "end", "iou", "mask", "noiseMid", "noiseLow"] satisfies readonly (keyof BmnTargets<unknown>)[],
  detection: ["labels"],
};

/**
 * The loss of a localizer's or a detector's outputs (in the network's output order) against its
 * targets (keys of TASK_TARGETS), over any tensor algebra: BMN's total loss, or the per-box
 * sigmoid binary cross-entropy against multi-hot labels [K, classes]. Both training engines
 * evaluate this one function.
 */
export function taskLoss<T>(ops: TensorAlgebra<T>, task: TargetedTask, outputs: readonly T[], targets: Readonly<Record<string, T>>): T {
  if (task === "detection") return sigmoidBinaryCrossEntropy(ops, outputs[0]!, targets.labels!);
  return bmnLoss(ops, outputs[0]!, outputs[1]!, outputs[2]!, targets as unknown as BmnTargets<T>).total;
}
