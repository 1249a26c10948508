/**
 * The names of the tasks, apart from their contracts: a checked network records its task by
 * name (network.ts), and the contracts read checked networks (contract.ts).
 */

/** The tasks vnet trains and evaluates. */
export const TASK_NAMES = ["classification", "localization", "detection"] as const;

export type TaskName = (typeof TASK_NAMES)[number];

/** The task of a network that does not state one. */
export const DEFAULT_TASK: TaskName = "classification";
