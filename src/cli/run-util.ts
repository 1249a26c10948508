/**
 * The steps that train, eval, predict and the weight commands share once a spec is checked:
 * refusing networks whose streams the runtime cannot compute, opening the dataset `--data` names,
 * reporting skipped inputs, loader settings, and starting the tfjs backend. Loads tfjs (through
 * runtime/), so only the commands that run models import it.
 */
import * as path from "node:path";
import { builtinClipShape, defaultCacheDir, memorySplits, type VideoSplits } from "../data/dataset.js";
import { openDataset } from "../data/folder.js";
import { DataError, formatIssue, skippedSummary, type DataIssue } from "../data/issues.js";
import { builtinVariant, motionDataset } from "../data/motion.js";
import type * as tf from "@tensorflow/tfjs";
import { programSources } from "../backends/onnx/index.js";
import type { FlowStream } from "../data/flow.js";
import type { IrGraph } from "../ir/graph.js";
import { describeSelection, selectBackend, TRAINING_KERNELS, workloadAvoidances, type BackendChoice, type BackendSelection } from "../runtime/backend.js";
import { checkpointClassNames } from "../runtime/checkpoint.js";
import { checkpointOnnx, type CheckpointOnnx } from "../runtime/onnx-eval.js";
import type { OnnxProvider } from "../runtime/onnx.js";
import { unsupportedInputs } from "../runtime/streams.js";
import type { TrainingConfig, TrainOptions, TrainResult } from "../runtime/train.js";
import type { CheckResult } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { readWeights } from "../weights/checkpoint.js";
import { modelWithWeights } from "../weights/model.js";
import type { WeightStore } from "../weights/store.js";
import { CheckpointError } from "../weights/tensors.js";
import type { TaskName } from "../semantics/tasks/index.js";
import { UsageError } from "./args.js";
import type { CommandContext } from "./command.js";
import { checkNetwork, renderDiagnostics, type CheckedSpec } from "./util.js";

/**
 * `checkNetwork`, refusing a network of a task the command does not run (classification unless
 * `tasks` says more) or with a stream the runtime cannot compute.
 */
export function checkRunnableNetwork(
  spec: string,
  networkName: string | undefined,
  out: (s: string) => void,
  color: boolean,
  tasks: readonly TaskName[] = ["classification"],
): CheckedSpec | number {
  const checked = checkNetwork(spec, networkName, out, color);
  if (typeof checked === "number") return checked;
  if (!tasks.includes(checked.network.task))
    throw new UsageError(`${checked.network.name} is a ${checked.network.task} network; this command runs ${tasks.join(" and ")} networks`);
  // A localizer reads feature sequences, not clips through the data pipeline.
  const unsupported = checked.network.task === "localization" ? undefined : unsupportedInputs(checked.graph);
  if (unsupported) throw new UsageError(`${checked.network.name}: ${unsupported}`);
  return checked;
}

export interface DatasetOptions {
  readonly seed: number;
  /** Builtin datasets: clips per class. */
  readonly trainPerClass?: number;
  readonly valPerClass?: number;
  /** Folders and lists without explicit splits: share held out for validation. */
  readonly valFraction?: number;
  /** Class names to label by (a checkpoint's); else the spec's `class_names`, else the dataset's. */
  readonly classNames?: readonly string[];
  readonly cacheDir: string;
}

/** Issues as lines, at most `limit` of them, then how many more. */
export function issueLines(issues: readonly DataIssue[], limit = 20): string[] {
  const lines = issues.slice(0, limit).map(formatIssue);
  if (issues.length > limit) lines.push(`... and ${issues.length - limit} more`);
  return lines;
}

/**
 * The dataset named by `--data` for a network (its lowered graph): a builtin one shaped to the
 * network's input clip, or a video
 * folder / list file (opened, probed, bad inputs reported). Throws a DataError (VN097, VN099) when
 * it cannot train or test this network, a usage error when `--data` names nothing.
 */
export async function loadDataset(data: string, network: IrGraph, options: DatasetOptions): Promise<VideoSplits> {
  if (network.classes === undefined) throw new UsageError(`${network.name} has no \`classes\` binding`);
  const variant = builtinVariant(data);
  if (data.startsWith("builtin:") && !variant)
    throw new UsageError(`unknown --data ${data} (builtin:motion, builtin:motion-appearance, or a video folder or list file)`);
  let splits: VideoSplits;
  if (variant) {
    const { frames, height, width } = builtinClipShape(network.protocol!);
    if (height !== width) throw new UsageError(`${data} makes square clips; ${network.name} reads ${height}x${width} frames`);
    try {
      splits = memorySplits(
        motionDataset({
          variant,
          classes: network.classes,
          frames,
          size: height,
          seed: options.seed,
          ...(options.trainPerClass ? { trainPerClass: options.trainPerClass } : {}),
          ...(options.valPerClass ? { valPerClass: options.valPerClass } : {}),
        }),
      );
    } catch (error) {
      throw new UsageError(`${network.name}: ${(error as Error).message}`);
    }
  } else {
    try {
      const classNames = options.classNames ?? network.classNames;
      splits = await openDataset(data, {
        cacheDir: options.cacheDir,
        ...(classNames ? { classNames } : {}),
        ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}),
      });
    } catch (error) {
      if (error instanceof DataError && error.issue.code === "VN090") throw new UsageError(`--data ${data}: ${error.issue.message}`);
      throw error;
    }
  }
  if (splits.classNames.length !== network.classes) {
    // A class folder without a usable video still counts as a class: say which, since that is often the extra one.
    const empty = splits.classNames.filter((_, label) => !splits.train.some((video) => video.label === label));
    const emptyNote = empty.length
      ? `; ${empty
          .slice(0, 8)
          .map((name) => JSON.stringify(name))
          .join(
            ", ",
          )}${empty.length > 8 ? ", ..." : ""} ${empty.length === 1 ? "has" : "have"} no usable training video (an empty class folder still counts as a class)`
      : "";
    throw new DataError(
      "VN099",
      data,
      `the dataset has ${splits.classNames.length} classes (${splits.classNames.slice(0, 8).join(", ")}${splits.classNames.length > 8 ? ", ..." : ""}) but ${network.name} outputs ${network.classes}${emptyNote}`,
    );
  }
  return splits;
}

/** Prints a dataset's skipped inputs (at most 20 lines), then their summary unless it comes later. */
export function reportIssues(issues: readonly DataIssue[], out: (s: string) => void, summarize = true): void {
  for (const line of issueLines(issues)) out(line);
  const summary = summarize ? skippedSummary(issues) : undefined;
  if (summary) out(summary);
}

/** Loader settings from the LOADING_FLAGS values. */
export function loadingOptions(flags: { readonly workers: number | undefined; readonly prefetch: number | undefined; readonly cacheDir: string | undefined }): {
  workers?: number;
  prefetch?: number;
  cacheDir: string;
} {
  return {
    ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
    ...(flags.prefetch !== undefined ? { prefetch: flags.prefetch } : {}),
    cacheDir: flags.cacheDir ?? defaultCacheDir(),
  };
}

/** Starts the backend (with the training kernels when `training`) and says which one runs. */
export async function startBackend(
  backend: BackendChoice | undefined,
  out: (s: string) => void,
  training: boolean,
  network?: CheckedNetwork,
): Promise<BackendSelection> {
  const avoid = training && network ? workloadAvoidances(network.layers) : [];
  const selection = await selectBackend({ ...(backend ? { force: backend } : {}), ...(training ? { requiredKernels: TRAINING_KERNELS } : {}), avoid });
  out(describeSelection(selection));
  return selection;
}

/**
 * The tfjs backend of a `vnet train`, started before the engine: it trains with the tfjs engine and
 * only initialises the weights for ONNX Runtime, so its choice is printed now only when tfjs was
 * asked for, and otherwise by `onEngine` when the engine turns out to be tfjs. Starting it is also
 * what keeps tfjs quiet (its "install the node backend" banner on the cpu backend).
 */
export async function startTrainingBackend(
  backend: BackendChoice | undefined,
  engine: string | undefined,
  out: (s: string) => void,
  network: CheckedNetwork,
): Promise<{
  readonly selection: BackendSelection;
  readonly onEngine: (report: (description: string, reason: string) => void) => (description: string, reason: string) => void;
}> {
  const selection = await startBackend(backend, engine === "tfjs" ? out : () => undefined, true, network);
  return {
    selection,
    onEngine: (report) => (description, reason) => {
      if (engine !== "tfjs" && description.startsWith("tfjs")) out(describeSelection(selection));
      report(description, reason);
    },
  };
}

/** The weights at a `--weights` location, or a usage error saying what is missing there. */
export async function readWeightsFlag(location: string): Promise<WeightStore> {
  try {
    return await readWeights(location);
  } catch (error) {
    if (error instanceof CheckpointError) throw new UsageError(`cannot load weights from ${location}: ${error.message}`);
    throw error;
  }
}

/** The spec's tfjs model with stored weights (by name), or exit code 1 after printing which weights do not fit. */
export function trainedModel(graph: IrGraph, result: CheckResult, store: WeightStore, out: (s: string) => void, color: boolean): tf.LayersModel | number {
  const built = modelWithWeights(graph, store);
  if (built.model) return built.model;
  out(renderDiagnostics(built.diagnostics, result, color));
  return 1;
}

/** The exact command that continues a run. */
export function resumeCommand(spec: string, data: string, runDir: string, network: string | undefined): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  return ["vnet", "train", spec, "--data", data, "-o", runDir, ...(network ? ["--network", network] : []), "--resume"].map(quote).join(" ");
}

/**
 * The exit code of a training run that stopped early, after saying why (and, when Ctrl-C or SIGTERM
 * stopped it, which checkpoint is kept and the exact command that continues it); undefined when
 * it ran to its end. One answer for every task's `vnet train`.
 */
export function stoppedTraining(
  trained: TrainResult,
  interrupt: AbortSignal,
  err: (s: string) => void,
  run: { readonly spec: string; readonly data: string; readonly runDir: string; readonly network: string | undefined },
): number | undefined {
  if (trained.interrupted) {
    err(`vnet: ${trained.stopped}`);
    if (trained.checkpoint) err(`continue with: ${resumeCommand(run.spec, run.data, run.runDir, run.network)}`);
    return interrupt.reason === "SIGTERM" ? 143 : 130;
  }
  return trained.stopped ? 1 : undefined;
}

/** Refuses what only a classifier's training takes (--init) for a network of another task, before any work. */
export function refuseClassifierOnlyFlags(role: "localizer" | "detector", flags: { readonly init: string | undefined }): void {
  if (flags.init !== undefined) throw new UsageError(`--init is not supported for ${role}s yet: train from scratch or --resume`);
}

/** The line every `vnet train` prints about the optimisation: optimizer, learning rate and schedule, weight decay, batch and epochs. */
export function describeOptimisation(config: TrainingConfig): string {
  return `${config.optimizer} lr ${config.lr} (${config.schedule}${config.warmup ? `, ${config.warmup} warm-up epochs${config.warmupStartLr ? ` from ${config.warmupStartLr}` : ""}` : ""}), weight decay ${config.weightDecay}, batch ${config.batch}, ${config.epochs} epochs`;
}

/**
 * A `vnet train` of one task as the command settled it before any data is read: the spec as
 * given, its checked network and graph, `--data`, the run directory, the seed and the training
 * flags that override the spec's `training` section.
 */
export interface TrainingRun {
  readonly spec: string;
  readonly network: CheckedNetwork;
  readonly graph: IrGraph;
  readonly data: string;
  readonly runDir: string;
  readonly seed: number;
  readonly overrides: Partial<TrainingConfig>;
}

/** Where a training run writes: the command's report, its errors and progress, and Ctrl-C. */
export type TrainingIo = Pick<CommandContext, "out" | "err" | "progress" | "interrupt">;

/** How every `vnet train` reports a run as it goes: the engine it trains on, the progress bar, the log lines, and Ctrl-C. */
export function trainingReports({ out, progress, interrupt }: TrainingIo): Required<Pick<TrainOptions, "onEngine" | "progress" | "log" | "signal">> {
  return {
    onEngine: (description, reason) => out(`engine: ${description}${reason ? ` (${reason})` : ""}`),
    progress: (line, done) => progress(done ? `\r${line}\n` : `\r${line}`),
    log: out,
    signal: interrupt,
  };
}

/** The last line of a finished `vnet train`: the files the run holds (the curves with --plot). */
export function wroteRun(runDir: string, plot: boolean): string {
  return `wrote ${path.join(runDir, "metrics.jsonl")}${plot ? `, ${path.join(runDir, "curves.png")}` : ""} and ${path.join(runDir, "checkpoint")}/`;
}

/** The class names a trained model's scores are named by: those its checkpoint was trained with (a video folder's), else the spec's `class_names`. */
export function trainedClassNames(store: WeightStore, network: { readonly classNames?: readonly string[] }): readonly string[] | undefined {
  return (store.directory ? checkpointClassNames(store.directory) : undefined) ?? network.classNames;
}

/**
 * A checked spec's stored weights exported to ONNX in memory and loaded in ONNX Runtime, as `vnet
 * eval`, `predict` and `detect` run a spec by default. Where the network does not export: exit
 * code 1 after printing the diagnostics when ONNX Runtime was asked for (`required`) or the weights
 * do not fit the network (VN082), else undefined after printing that tfjs runs instead.
 */
export async function inMemoryOnnx(
  checked: CheckedSpec,
  store: WeightStore,
  options: { readonly flows: readonly FlowStream[]; readonly provider?: OnnxProvider | undefined; readonly required: boolean; readonly color: boolean },
  out: (s: string) => void,
): Promise<CheckpointOnnx | number | undefined> {
  const { graph } = checked;
  const loaded = await checkpointOnnx(graph, store, {
    sources: programSources(checked.result),
    flows: options.flows,
    ...(options.provider ? { provider: options.provider } : {}),
  });
  if ("model" in loaded) return loaded;
  if (options.required || loaded.diagnostics.some((d) => d.code === "VN082")) {
    out(renderDiagnostics(loaded.diagnostics, checked.result, options.color));
    return 1;
  }
  out(`runtime: tfjs (${graph.name} does not export to ONNX: ${loaded.diagnostics[0]!.message})`);
  return undefined;
}
