/**
 * `vnet train <spec> --data <builtin:motion | folder | list file> -o <run-dir>`: trains a spec on
 * a dataset with the spec's optimizer and schedule (flags override), printing a progress bar on
 * stderr, and writing metrics.jsonl and an atomic checkpoint per epoch into the run directory.
 * Videos that cannot be used are reported with their path and skipped, with a summary at the
 * end. Loaded on demand by the CLI, so the other commands never load tfjs.
 */
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { defaultCacheDir, memorySplits, type VideoSplits } from "../data/dataset.js";
import { openDataset } from "../data/folder.js";
import { DataError, formatIssue, skippedSummary, type DataIssue } from "../data/issues.js";
import { builtinVariant, motionDataset } from "../data/motion.js";
import { describeSelection, selectBackend, TRAINING_KERNELS, workloadAvoidances, type BackendChoice } from "../runtime/backend.js";
import { rawClipShape, unsupportedStream } from "../runtime/streams.js";
import { trainingConfig, trainNetwork, type TrainingConfig } from "../runtime/train.js";
import { checkFiles, type CheckResult } from "../semantics/check.js";
import type { CheckedNetwork } from "../semantics/network.js";

export interface RunCommandHooks {
  /** Expands file and directory arguments (throwing the CLI's usage error for a missing path). */
  readonly expand: (paths: readonly string[]) => string[];
  /** Renders diagnostics with code frames. */
  readonly render: (diagnostics: readonly Diagnostic[], result: CheckResult) => string;
  /** Makes the CLI's usage error (exit code 2). */
  readonly usage: (message: string) => Error;
  /** Progress output (stderr); `\r` redraws the line when it is a terminal. */
  readonly progress: (text: string) => void;
}

const BACKENDS: readonly BackendChoice[] = ["node-gpu", "node", "wasm", "cpu"];

/** Flags and positional arguments; `valued` lists the flags that take a value. */
export function parseFlags(args: readonly string[], valued: readonly string[], switches: readonly string[], command: string, usage: (m: string) => Error): { positional: string[]; values: Map<string, string>; set: Set<string> } {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split("=", 2) as [string, string | undefined];
    if (switches.includes(flag)) set.add(flag);
    else if (valued.includes(flag)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw usage(`${flag} needs a value`);
      values.set(flag === "-o" ? "--out" : flag, value);
    } else if (flag.startsWith("-")) throw usage(`unknown option ${flag} for vnet ${command}`);
    else positional.push(args[i]!);
  }
  return { positional, values, set };
}

/** A number flag, or undefined; a malformed one is a usage error. */
export function numberFlag(values: Map<string, string>, flag: string, usage: (m: string) => Error, integer = false): number | undefined {
  const text = values.get(flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw usage(`${flag} needs a ${integer ? "non-negative integer" : "non-negative number"}, got ${text}`);
  return value;
}

/** The one network of a spec file that a command works on (and the check result), or the exit code of a failed check. */
export function checkNetwork(spec: string, networkName: string | undefined, out: (s: string) => void, hooks: Pick<RunCommandHooks, "expand" | "render" | "usage">): { network: CheckedNetwork; result: CheckResult } | number {
  const file = hooks.expand([spec])[0]!;
  const result = checkFiles([file]);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    out(hooks.render(errors, result));
    return 1;
  }
  const networks = result.networks.filter((n) => path.resolve(n.file) === path.resolve(file) && (networkName === undefined || n.name === networkName));
  if (networks.length === 0) throw hooks.usage(networkName ? `no network \`${networkName}\` in ${file}` : `${file} defines no network`);
  if (networks.length > 1) throw hooks.usage(`${file} defines ${networks.length} networks; choose one with --network (${networks.map((n) => n.name).join(", ")})`);
  return { network: networks[0]!, result };
}

/** The one network of a spec file that the command trains or evaluates, or the exit code of a failed check. */
export function loadNetwork(spec: string, networkName: string | undefined, out: (s: string) => void, hooks: RunCommandHooks): CheckedNetwork | number {
  const checked = checkNetwork(spec, networkName, out, hooks);
  if (typeof checked === "number") return checked;
  const network = checked.network;
  if (network.task !== "classification") throw hooks.usage(`${network.name} is a ${network.task} network; this command trains and evaluates classification networks`);
  const unsupported = unsupportedStream(network);
  if (unsupported) throw hooks.usage(`${network.name}: ${unsupported}`);
  return network;
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
 * The dataset named by `--data`: a builtin one shaped to the network's input clip, or a video
 * folder / list file (opened, probed, bad inputs reported). Throws a DataError (VN097, VN099) when
 * it cannot train or test this network, a usage error when `--data` names nothing.
 */
export async function loadDataset(data: string, network: CheckedNetwork, options: DatasetOptions, usage: (m: string) => Error): Promise<VideoSplits> {
  if (network.classes === undefined) throw usage(`${network.name} has no \`classes\` binding`);
  const variant = builtinVariant(data);
  if (data.startsWith("builtin:") && !variant) throw usage(`unknown --data ${data} (builtin:motion, builtin:motion-appearance, or a video folder or list file)`);
  let splits: VideoSplits;
  if (variant) {
    const [frames, height, width] = rawClipShape(network) as [number, number, number, number];
    if (height !== width) throw usage(`${data} makes square clips; ${network.name} reads ${height}x${width} frames`);
    try {
      splits = memorySplits(motionDataset({ variant, classes: network.classes, frames, size: height, seed: options.seed, ...(options.trainPerClass ? { trainPerClass: options.trainPerClass } : {}), ...(options.valPerClass ? { valPerClass: options.valPerClass } : {}) }));
    } catch (error) {
      throw usage(`${network.name}: ${(error as Error).message}`);
    }
  } else {
    try {
      const classNames = options.classNames ?? network.classNames;
      splits = await openDataset(data, { cacheDir: options.cacheDir, ...(classNames ? { classNames } : {}), ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}) });
    } catch (error) {
      if (error instanceof DataError && error.issue.code === "VN090") throw usage(`--data ${data}: ${error.issue.message}`);
      throw error;
    }
  }
  if (splits.classNames.length !== network.classes) {
    throw new DataError("VN099", data, `the dataset has ${splits.classNames.length} classes (${splits.classNames.slice(0, 8).join(", ")}${splits.classNames.length > 8 ? ", ..." : ""}) but ${network.name} outputs ${network.classes}`);
  }
  return splits;
}

/** Prints a dataset's skipped inputs (at most 20 lines), then their summary unless it comes later. */
export function reportIssues(issues: readonly DataIssue[], out: (s: string) => void, summarize = true): void {
  for (const line of issueLines(issues)) out(line);
  const summary = summarize ? skippedSummary(issues) : undefined;
  if (summary) out(summary);
}

/** Loader settings from `--workers`, `--prefetch`, `--cache-dir`. */
export function loadingFlags(values: Map<string, string>, usage: (m: string) => Error): { workers?: number; prefetch?: number; cacheDir: string } {
  const workers = numberFlag(values, "--workers", usage, true);
  const prefetch = numberFlag(values, "--prefetch", usage, true);
  return { ...(workers !== undefined ? { workers } : {}), ...(prefetch !== undefined ? { prefetch } : {}), cacheDir: values.get("--cache-dir") ?? defaultCacheDir() };
}

/** Starts the backend (training kernels required) and says which one runs. */
export async function startBackend(values: Map<string, string>, out: (s: string) => void, usage: (m: string) => Error, training: boolean, network?: CheckedNetwork): Promise<void> {
  const backend = values.get("--backend");
  if (backend !== undefined && !BACKENDS.includes(backend as BackendChoice)) throw usage(`unknown --backend ${backend} (${BACKENDS.join(", ")})`);
  const avoid = training && network ? workloadAvoidances(network.layers) : [];
  const selection = await selectBackend({ ...(backend ? { force: backend as BackendChoice } : {}), ...(training ? { requiredKernels: TRAINING_KERNELS } : {}), avoid });
  out(describeSelection(selection));
}

/** Flags of the data loader, shared by train and eval. */
export const LOADING_FLAGS = ["--cache-dir", "--workers", "--prefetch"];

const VALUED = ["-o", "--out", "--data", "--network", "--backend", "--seed", "--epochs", "--batch", "--lr", "--optimizer", "--weight-decay", "--schedule", "--warmup", "--train-clips", "--val-clips", "--val-fraction", "--init", ...LOADING_FLAGS];

/** Runs `vnet train`; returns the exit code (0 trained, 1 spec errors or a stopped run, 2 usage). */
export async function trainCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values, set } = parseFlags(args, VALUED, ["--resume", "--partial"], "train", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet train takes one spec file: vnet train <spec> --data <builtin:motion | folder | list> -o <run-dir>");
  const runDir = values.get("--out");
  if (!runDir) throw hooks.usage("vnet train needs a run directory: -o <run-dir>");
  const data = values.get("--data");
  if (!data) throw hooks.usage("vnet train needs --data (builtin:motion, builtin:motion-appearance, or a video folder or list file)");
  const optimizer = values.get("--optimizer");
  if (optimizer !== undefined && optimizer !== "sgd" && optimizer !== "adam") throw hooks.usage(`unknown --optimizer ${optimizer} (sgd, adam)`);
  const schedule = values.get("--schedule");
  if (schedule !== undefined && !["constant", "step", "cosine"].includes(schedule)) throw hooks.usage(`unknown --schedule ${schedule} (constant, step, cosine)`);
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const overrides: Partial<Record<keyof TrainingConfig, unknown>> = {
    epochs: numberFlag(values, "--epochs", hooks.usage, true),
    batch: numberFlag(values, "--batch", hooks.usage, true),
    lr: numberFlag(values, "--lr", hooks.usage),
    weightDecay: numberFlag(values, "--weight-decay", hooks.usage),
    warmup: numberFlag(values, "--warmup", hooks.usage, true),
    optimizer,
    schedule,
  };
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainingConfig>;
  if (defined.batch === 0 || defined.epochs === 0) throw hooks.usage("--batch and --epochs must be at least 1");

  const network = loadNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const trainPerClass = numberFlag(values, "--train-clips", hooks.usage, true);
  const valPerClass = numberFlag(values, "--val-clips", hooks.usage, true);
  const valFraction = numberFlag(values, "--val-fraction", hooks.usage);
  if (valFraction !== undefined && valFraction >= 1) throw hooks.usage(`--val-fraction must be below 1, got ${valFraction}`);
  const loading = loadingFlags(values, hooks.usage);
  let dataset: VideoSplits;
  try {
    dataset = await loadDataset(data, network, { seed, cacheDir: loading.cacheDir, ...(trainPerClass ? { trainPerClass } : {}), ...(valPerClass ? { valPerClass } : {}), ...(valFraction !== undefined ? { valFraction } : {}) }, hooks.usage);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    out(formatIssue(error.issue));
    return 1;
  }
  reportIssues(dataset.issues, out, false);
  if (dataset.train.length === 0) {
    out(formatIssue({ code: "VN097", path: data, message: "no usable training videos" }));
    return 1;
  }
  await startBackend(values, out, hooks.usage, true, network);
  const init = values.get("--init");
  if (init !== undefined && set.has("--resume")) throw hooks.usage("--init sets the starting weights of a new run; --resume continues one: use one of them");
  const initialise = init === undefined ? undefined : await (await import("./init-weights.js")).initialWeights(init, network, set.has("--partial"), out, hooks);
  if (typeof initialise === "number") return initialise;
  const config = trainingConfig(network, defined);
  const [frames, height, width] = rawClipShape(network);
  const image = network.inputs.find((i) => i.kind === "input")!.shape.length === 3 ? " (a 2D network: one frame of each)" : "";
  out(`training ${network.name} on ${dataset.name}: ${dataset.train.length} training and ${dataset.val.length} validation videos, clips of [${frames}, ${height}, ${width}, 3]${image}, ${dataset.classNames.length} classes`);
  out(`${config.optimizer} lr ${config.lr} (${config.schedule}${config.warmup ? `, ${config.warmup} warm-up epochs` : ""}), weight decay ${config.weightDecay}, batch ${config.batch}, ${config.epochs} epochs`);
  const result = await trainNetwork(network, dataset, {
    config,
    runDir,
    seed,
    resume: set.has("--resume"),
    ...(initialise ? { init: initialise } : {}),
    progress: (line, done) => hooks.progress(done ? `\r${line}\n` : `\r${line}`),
    log: out,
    loading,
  });
  const summary = skippedSummary([...dataset.issues, ...result.issues]);
  if (summary) out(summary);
  result.model.dispose();
  if (result.stopped) return 1;
  const last = result.history[result.history.length - 1];
  if (last && Number.isNaN(last.valAccuracy)) out(`trained ${last.epoch} epochs; no validation videos to measure accuracy on`);
  else if (last) out(`validation accuracy ${(100 * last.valAccuracy).toFixed(1)}% after ${last.epoch} epochs (chance ${(100 / dataset.classNames.length).toFixed(1)}%)`);
  out(`wrote ${path.join(runDir, "metrics.jsonl")} and ${path.join(runDir, "checkpoint")}/`);
  return 0;
}
