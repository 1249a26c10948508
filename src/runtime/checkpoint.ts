/**
 * Training checkpoints, one format whichever engine wrote them: a directory holding
 * - model.json + weights.bin: the tfjs LayersModel layout (`model-io.ts`), weights named as vnet
 *   names them in tfjs (`layer2.0.conv1.conv3d/kernel`), channels-last, so `vnet eval`, `export`,
 *   `inflate` and `--init` read any run;
 * - optimizer.bin: the optimizer state as named float32 tensors, in tfjs's order (`iter`, then one
 *   slot per trainable weight in the model's trainable-weight order: `<weight>/momentum`, or
 *   Adam's `<weight>/m` for every weight, then `<weight>/v`);
 * - progress.json: epoch, seed, class names, the optimizer tensors' names and shapes, scalars such
 *   as Adam's accumulated beta powers, and the engine that wrote it.
 * A checkpoint is written to a temporary directory and swapped in with renames, so a crash
 * leaves the old checkpoint or the new one. Engines convert to and from `CheckpointContents`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fileHandler } from "./model-io.js";

/** A named float32 tensor (row-major). */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Progress {
  readonly epoch: number;
  readonly seed: number;
  readonly network: string;
  readonly optimizer: string;
  /** The dataset's class names, in label order. */
  readonly classNames?: readonly string[];
  /** The engine that wrote the checkpoint ("tfjs", "ort"); informational: any engine reads it. */
  readonly engine?: string;
}

/** Everything a checkpoint holds, in memory. */
export interface CheckpointContents {
  /** model.json's topology and metadata (its weights manifest is made from `weights`). */
  readonly model: Pick<tf.io.ModelArtifacts, "modelTopology" | "format" | "generatedBy" | "convertedBy" | "userDefinedMetadata">;
  /** The weights in the model's order, tfjs names, channels-last. */
  readonly weights: readonly NamedTensor[];
  /** The optimizer state in tfjs's order (see above); empty before the first step. */
  readonly optimizer: readonly NamedTensor[];
  /** Optimizer scalars getWeights leaves out (Adam's accBeta1, accBeta2). */
  readonly optimizerScalars: Readonly<Record<string, number>>;
  readonly progress: Progress;
}

/** The file layout of progress.json (the contents' progress plus the optimizer's manifest). */
interface ProgressFile extends Progress {
  readonly optimizerWeights: { name: string; shape: number[] }[];
  readonly optimizerScalars?: Record<string, number>;
}

export const CHECKPOINT = "checkpoint";

/** The checkpoint directory of a run dir (or the directory itself when it is a checkpoint). */
export function checkpointDir(runOrCheckpoint: string): string {
  if (fs.existsSync(path.join(runOrCheckpoint, "model.json"))) return runOrCheckpoint;
  const current = path.join(runOrCheckpoint, CHECKPOINT);
  // A crash between the two renames of `writeCheckpoint` leaves only the previous one.
  return fs.existsSync(current) ? current : `${current}.old`;
}

/** The class names a checkpoint was trained with, when it records them. */
export function checkpointClassNames(dir: string): string[] | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, "progress.json"), "utf8")) as Progress).classNames?.slice();
  } catch {
    return undefined;
  }
}

function concat(tensors: readonly NamedTensor[]): Float32Array {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of tensors) out.set(t.data, offset), (offset += t.data.length);
  return out;
}

function split(values: Float32Array, specs: readonly { name: string; shape: readonly number[] }[]): NamedTensor[] {
  let offset = 0;
  return specs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = values.subarray(offset, offset + size);
    offset += size;
    return { name: spec.name, shape: [...spec.shape], data };
  });
}

const floats = (bytes: Buffer) => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

/**
 * Writes a checkpoint into `runDir/checkpoint`: everything to a temporary directory, then swapped
 * in with renames, so a crash leaves either the old or the new checkpoint, never a torn one.
 */
export async function writeCheckpoint(runDir: string, contents: CheckpointContents): Promise<void> {
  const target = path.join(runDir, CHECKPOINT);
  const temp = `${target}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  const weightData = concat(contents.weights);
  await fileHandler(temp).save!({
    ...contents.model,
    weightSpecs: contents.weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: "float32" as const })),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  });
  fs.writeFileSync(path.join(temp, "optimizer.bin"), Buffer.from(concat(contents.optimizer).buffer));
  const progress: ProgressFile = { ...contents.progress, optimizerWeights: contents.optimizer.map((t) => ({ name: t.name, shape: [...t.shape] })), optimizerScalars: { ...contents.optimizerScalars } };
  fs.writeFileSync(path.join(temp, "progress.json"), JSON.stringify(progress, null, 2));
  const old = `${target}.old`;
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(target)) fs.renameSync(target, old);
  fs.renameSync(temp, target);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Reads a checkpoint directory written by `writeCheckpoint` (by either engine). */
export async function readCheckpoint(dir: string): Promise<CheckpointContents> {
  const artifacts = await fileHandler(dir).load!();
  const progress = JSON.parse(fs.readFileSync(path.join(dir, "progress.json"), "utf8")) as ProgressFile;
  const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
  const { optimizerWeights, optimizerScalars, ...rest } = progress;
  const optimizerFile = path.join(dir, "optimizer.bin");
  return {
    model: { modelTopology: artifacts.modelTopology, format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy, userDefinedMetadata: artifacts.userDefinedMetadata },
    weights: split(new Float32Array(weightData), artifacts.weightSpecs ?? []),
    optimizer: optimizerWeights.length && fs.existsSync(optimizerFile) ? split(floats(fs.readFileSync(optimizerFile)), optimizerWeights) : [],
    optimizerScalars: optimizerScalars ?? {},
    progress: rest,
  };
}

/**
 * The slot a checkpoint's optimizer tensor holds: the weight's tfjs name and the slot kind
 * (`conv1/kernel/momentum` -> conv1/kernel, momentum). tfjs names slots after its variables,
 * which carry a `_n` suffix when another model in the process holds the same names; the suffix
 * is dropped (no role of vnet ends in `_n`).
 */
export function slotOf(name: string): { weight: string; slot: string } | undefined {
  const at = name.lastIndexOf("/");
  if (at <= 0) return undefined;
  return { weight: name.slice(0, at).replace(/_\d+$/, ""), slot: name.slice(at + 1) };
}
