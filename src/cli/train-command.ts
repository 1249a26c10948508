/**
 * `vnet train <spec> --data builtin:motion -o <run-dir>`: trains a spec on a dataset with the
 * spec's optimizer and schedule (flags override), printing a progress bar on stderr, and writing
 * metrics.jsonl and an atomic checkpoint per epoch into the run directory. Loaded on demand by the
 * CLI, so the other commands never load tfjs.
 */
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { builtinVariant, motionDataset, type VideoDataset } from "../data/motion.js";
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
  const unsupported = unsupportedStream(network);
  if (unsupported) throw hooks.usage(`${network.name}: ${unsupported}`);
  return network;
}

/** The dataset named by `--data`, shaped to the network's input clip. */
export function loadDataset(data: string, network: CheckedNetwork, sizes: { trainPerClass?: number; valPerClass?: number; seed: number }, usage: (m: string) => Error): VideoDataset {
  const variant = builtinVariant(data);
  if (!variant) throw usage(`unknown --data ${data} (builtin:motion, builtin:motion-appearance; dataset folders are not supported yet)`);
  const [frames, height, width, channels] = rawClipShape(network) as [number, number, number, number];
  if (height !== width || channels !== 3) throw usage(`${data} makes square RGB clips; ${network.name} reads [${frames}, ${height}, ${width}, ${channels}]`);
  if (network.classes === undefined) throw usage(`${network.name} has no \`classes\` binding`);
  try {
    return motionDataset({ variant, classes: network.classes, frames, size: height, seed: sizes.seed, ...(sizes.trainPerClass ? { trainPerClass: sizes.trainPerClass } : {}), ...(sizes.valPerClass ? { valPerClass: sizes.valPerClass } : {}) });
  } catch (error) {
    throw usage(`${network.name}: ${(error as Error).message}`);
  }
}

/** Starts the backend (training kernels required) and says which one runs. */
export async function startBackend(values: Map<string, string>, out: (s: string) => void, usage: (m: string) => Error, training: boolean, network?: CheckedNetwork): Promise<void> {
  const backend = values.get("--backend");
  if (backend !== undefined && !BACKENDS.includes(backend as BackendChoice)) throw usage(`unknown --backend ${backend} (${BACKENDS.join(", ")})`);
  const avoid = training && network ? workloadAvoidances(network.layers) : [];
  const selection = await selectBackend({ ...(backend ? { force: backend as BackendChoice } : {}), ...(training ? { requiredKernels: TRAINING_KERNELS } : {}), avoid });
  out(describeSelection(selection));
}

const VALUED = ["-o", "--out", "--data", "--network", "--backend", "--seed", "--epochs", "--batch", "--lr", "--optimizer", "--weight-decay", "--schedule", "--warmup", "--train-clips", "--val-clips", "--init"];

/** Runs `vnet train`; returns the exit code (0 trained, 1 spec errors or a stopped run, 2 usage). */
export async function trainCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values, set } = parseFlags(args, VALUED, ["--resume", "--partial"], "train", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet train takes one spec file: vnet train <spec> --data builtin:motion -o <run-dir>");
  const runDir = values.get("--out");
  if (!runDir) throw hooks.usage("vnet train needs a run directory: -o <run-dir>");
  const data = values.get("--data");
  if (!data) throw hooks.usage("vnet train needs --data (builtin:motion or builtin:motion-appearance)");
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
  const dataset = loadDataset(data, network, { seed, ...(trainPerClass ? { trainPerClass } : {}), ...(valPerClass ? { valPerClass } : {}) }, hooks.usage);
  await startBackend(values, out, hooks.usage, true, network);
  const init = values.get("--init");
  if (init !== undefined && set.has("--resume")) throw hooks.usage("--init sets the starting weights of a new run; --resume continues one: use one of them");
  const initialise = init === undefined ? undefined : await (await import("./init-weights.js")).initialWeights(init, network, set.has("--partial"), out, hooks);
  if (typeof initialise === "number") return initialise;
  const config = trainingConfig(network, defined);
  const frames = network.inputs.find((i) => i.kind === "input")!.shape.length === 3 ? " (a 2D network: one frame of each)" : "";
  out(`training ${network.name} on ${dataset.name}: ${dataset.train.count} training and ${dataset.val.count} validation clips of [${dataset.frames}, ${dataset.height}, ${dataset.width}, 3]${frames}, ${dataset.classNames.length} classes`);
  out(`${config.optimizer} lr ${config.lr} (${config.schedule}${config.warmup ? `, ${config.warmup} warm-up epochs` : ""}), weight decay ${config.weightDecay}, batch ${config.batch}, ${config.epochs} epochs`);
  const result = await trainNetwork(network, dataset, {
    config,
    runDir,
    seed,
    resume: set.has("--resume"),
    ...(initialise ? { init: initialise } : {}),
    progress: (line, done) => hooks.progress(done ? `\r${line}\n` : `\r${line}`),
    log: out,
  });
  result.model.dispose();
  if (result.stopped) return 1;
  const last = result.history[result.history.length - 1];
  if (last) out(`validation accuracy ${(100 * last.valAccuracy).toFixed(1)}% after ${last.epoch} epochs (chance ${(100 / dataset.classNames.length).toFixed(1)}%)`);
  out(`wrote ${path.join(runDir, "metrics.jsonl")} and ${path.join(runDir, "checkpoint")}/`);
  return 0;
}
