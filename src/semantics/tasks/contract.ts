/**
 * What a task is. A network states its task (`task = "localization"`; classification when it
 * says nothing), and the task's contract says everything the rest of vnet needs to know about it:
 *
 * - `inputs` and `outputs`: what the model reads and what its `output` statement must produce,
 *   in order; `check` holds a checked network to them and reports located diagnostics (VN024,
 *   VN063, VN064), so a spec for the wrong task fails in the checker, not in training.
 * - `losses`: what training minimises. Each loss is a formula over `TensorAlgebra` exported by
 *   the task's module, so the tfjs engine (src/runtime/train.ts) and the ONNX Runtime training
 *   graph compute the same thing from the same code.
 * - `metrics`: what `vnet eval` reports for it.
 * - `datasets`: the dataset formats `--data` accepts for it.
 *
 * The contracts are data and pure formulas (this stage imports nothing above src/ops). An engine
 * evaluates a loss by instantiating the algebra (tfjs: src/runtime/tensor-algebra.ts); the
 * metrics and dataset readers a contract names are implemented in the runtime and data stages
 * (classification: src/runtime/evaluate.ts, src/data/folder.ts and motion.ts).
 * A new task (e.g. "detection") is one module here with its contract, check and loss formulas,
 * its name in TASK_NAMES, and its runtime implementations.
 */
import type { Code } from "../../diagnostics/codes.js";
import type { Range } from "../../diagnostics/diagnostic.js";
import type { CheckedNetwork } from "../network.js";
import type { TaskName } from "./names.js";

export { DEFAULT_TASK, TASK_NAMES, type TaskName } from "./names.js";

/** A named thing a task provides (an output, a loss, a metric, a dataset format), with its doc. */
export interface Described {
  readonly name: string;
  readonly doc: string;
}

/** One output of a task's network, in `output` order. */
export interface TaskOutput extends Described {
  /** The shape it must have, in words: `[N, classes]`, `[N, T]`. */
  readonly shape: string;
}

/** Where the checker found a network's outputs, for located diagnostics. */
export interface TaskSite {
  /** The network's name in its declaration. */
  readonly name: Range;
  /** Each output expression, in order (the name when there is no `output` statement). */
  readonly outputs: readonly Range[];
}

export type TaskReporter = (code: Code, message: string, range: Range, hint?: string) => void;

export interface TaskContract {
  readonly name: TaskName;
  readonly doc: string;
  /** The model inputs it feeds, in words. */
  readonly inputs: string;
  readonly outputs: readonly TaskOutput[];
  readonly losses: readonly Described[];
  readonly metrics: readonly Described[];
  readonly datasets: readonly Described[];
  /** Reports where the network's inputs and outputs break the contract; never throws. */
  check(network: CheckedNetwork, site: TaskSite, report: TaskReporter): void;
}
