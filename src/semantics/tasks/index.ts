/**
 * The task table: every task's contract (see contract.ts), by name.
 */
import { classification } from "./classification.js";
import type { TaskContract, TaskName } from "./contract.js";
import { detection } from "./detection.js";
import { localization } from "./localization.js";

export * from "./contract.js";

export const TASKS: ReadonlyMap<TaskName, TaskContract> = new Map([classification, localization, detection].map((t) => [t.name, t]));

/** The contract of a task. */
export function taskContract(name: TaskName): TaskContract {
  return TASKS.get(name)!;
}
