/**
 * Model and checkpoint files, engine-neutral: whatever trains (tfjs, ONNX Runtime: src/runtime/engines)
 * writes and reads them through this module, as named float32 tensors (`CheckpointContents`), so a
 * run resumes on either engine and `vnet eval`, `export`, `inflate` and `--init` read any run.
 *
 * A model directory is tfjs's layout: `model.json` (the topology when the writer has one, and the
 * weights manifest: names, shapes, dtypes) and `weights.bin` (the tensors in manifest order). A
 * training checkpoint (`RUN/checkpoint/`) adds `optimizer.bin` (the optimizer's state as named
 * tensors in tfjs's order: `iter`, then one slot per trainable weight, `<weight>/momentum`, or Adam's
 * `<weight>/m` for every weight, then `<weight>/v`; listed in progress.json) and `progress.json`
 * (epoch, seed, network, optimizer, the engine that wrote it, spec hash, architecture signature,
 * the run's settings, class names, and each file's size and SHA-256), written last.
 *
 * Crash safety: a checkpoint is written whole into `checkpoint.tmp-<pid>-<epoch>/` and flushed;
 * then the current one (complete by construction) is renamed to `checkpoint.old`, the new one to
 * `checkpoint`, and the old one removed. `checkpoint.old` is removed before that rename only while
 * `checkpoint` exists, so a crash at any step, even two crashes in a row, leaves at least one
 * complete checkpoint: `findCheckpoint` takes the newest complete one among `checkpoint`,
 * `checkpoint.old` and `checkpoint.tmp-*`, and `recoverCheckpoint` (under the run's lock) puts it
 * back in place and removes the leftovers of dead runs. Every read checks sizes and hashes, so a
 * truncated or altered file is an error (VN100), never weights read out of place.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";
import type * as tf from "@tensorflow/tfjs";
import type { Program } from "../semantics/program.js";
import { guardFileSystem, makeDirectory, removeTree, renameDurable, syncDirectory, writeDurable, writeFileAtomic } from "./files.js";

export const CHECKPOINT = "checkpoint";
export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
export const OPTIMIZER_FILE = "optimizer.bin";
export const PROGRESS_FILE = "progress.json";
/** The files of a model directory. */
export const MODEL_FILES = [MODEL_FILE, WEIGHTS_FILE] as const;

/** A tensor as files hold it: a shape and float32 values in row-major order. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** A tensor with its name (a weight's tfjs name, `layer2.0.conv1.conv3d/kernel`; an optimizer slot's), as engines hand them over. */
export interface NamedTensor extends Tensor {
  readonly name: string;
}

/** Tensors by name, in file order. */
export type NamedTensors = ReadonlyMap<string, Tensor>;

/** A weight as a manifest lists it. */
export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** What model.json holds (tfjs's `ModelJSON`, the fields vnet reads). */
export interface ModelJson {
  readonly modelTopology?: unknown;
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly WeightSpec[] }[];
  readonly userDefinedMetadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** What the training loop records in a checkpoint (engines pass it through, adding `engine`). */
export interface Progress {
  /** Epochs completed. */
  readonly epoch: number;
  readonly seed: number;
  readonly network: string;
  /** The optimizer's name ("sgd", "adam"). */
  readonly optimizer: string;
  /** Class names in label order (a video folder's). */
  readonly classNames?: readonly string[];
  /** The engine that wrote it ("tfjs", "ort"); informational: any engine reads it. */
  readonly engine?: string;
  /** `programHash` of the spec the checkpoint was trained from. */
  readonly specHash?: string;
  /** The run's settings (seed, optimizer, lr, batch, data, ...), for `--resume`. */
  readonly settings?: Readonly<Record<string, unknown>>;
}

/** progress.json: the loop's progress plus the optimizer's manifest and the files' sizes and hashes. */
export interface ProgressFile extends Progress {
  readonly format: 1;
  /** `architectureSignature` of the weights. */
  readonly architecture: string;
  readonly optimizerWeights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  /** Optimizer scalars getWeights leaves out (Adam's accBeta1, accBeta2). */
  readonly optimizerScalars: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

/** Everything a checkpoint holds, in memory, whichever engine wrote it. */
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

/** A checkpoint read back: its contents, with progress.json as recorded. */
export interface ReadCheckpoint extends CheckpointContents {
  readonly progress: ProgressFile;
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** A hash of a spec program: every module's path (relative to the entry's folder) and text. */
export function programHash(program: Program): string {
  const entry = program.entries[0] ?? "";
  const base = path.dirname(entry);
  const parts = [...program.modules.values()].map((m) => `${path.relative(base, m.file)}\0${m.text}`).sort();
  return sha256(parts.join("\0\0")).slice(0, 16);
}

/** A hash of weight names and shapes: equal exactly when two models hold the same weights. */
export function architectureSignature(weights: Iterable<{ readonly name: string; readonly shape: readonly number[] }>): string {
  const lines = [...weights].map((w) => `${w.name}[${w.shape.join(",")}]`).sort();
  return sha256(lines.join("\n")).slice(0, 16);
}

/** What differs between the weights a spec declares and those a checkpoint holds, as lines (empty: the same). */
export function architectureDifferences(
  expected: Iterable<{ readonly name: string; readonly shape: readonly number[] }>,
  actual: Iterable<{ readonly name: string; readonly shape: readonly number[] }>,
): string[] {
  const want = new Map([...expected].map((w) => [w.name, w.shape]));
  const have = new Map([...actual].map((w) => [w.name, w.shape]));
  const lines: string[] = [];
  const shape = (s: readonly number[]) => `[${s.join(", ")}]`;
  for (const [name, s] of want) {
    const there = have.get(name);
    if (!there) lines.push(`${name} ${shape(s)} is not in the checkpoint`);
    else if (there.length !== s.length || there.some((d, i) => d !== s[i]))
      lines.push(`${name} is ${shape(there)} in the checkpoint and ${shape(s)} in the spec`);
  }
  for (const [name, s] of have) if (!want.has(name)) lines.push(`the checkpoint holds ${name} ${shape(s)}, which the spec does not declare`);
  return lines;
}

/** A tensor's weights as manifest entries and one buffer (float32, little-endian, in order). */
export function encodeTensors(tensors: NamedTensors): { specs: WeightSpec[]; data: Uint8Array } {
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) throw new Error(`internal: ${name} has ${t.values.length} values for shape [${t.shape.join(", ")}]`);
    specs.push({ name, shape: [...t.shape], dtype: "float32" });
    total += size;
  }
  const data = new Float32Array(total);
  let offset = 0;
  for (const t of tensors.values()) (data.set(t.values, offset), (offset += t.values.length));
  return { specs, data: new Uint8Array(data.buffer) };
}

function damaged(dir: string, reason: string, hint = "restore the directory from a backup, or train again"): VnetError {
  return new VnetError("VN100", `${dir} is damaged: ${reason}`, { path: dir, hint });
}

/** Tensors from a buffer laid out by `specs`; the byte count must match exactly. */
export function decodeTensors(specs: readonly WeightSpec[], bytes: Uint8Array, where: string): Map<string, Tensor> {
  const expected = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  const unsupported = specs.find((s) => s.dtype !== "float32");
  if (unsupported) throw damaged(where, `${unsupported.name} is ${unsupported.dtype}; vnet reads float32 weights`);
  if (bytes.byteLength !== expected)
    throw damaged(
      where,
      `the weights take ${expected.toLocaleString("en-US")} bytes by the manifest, but the file has ${bytes.byteLength.toLocaleString("en-US")}${bytes.byteLength > expected ? " (extra bytes at the end)" : " (truncated)"}`,
    );
  // A copy, aligned for Float32Array whatever the Buffer's offset in its pool.
  const all = new Float32Array(new Uint8Array(bytes).buffer);
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    out.set(spec.name, { shape: [...spec.shape], values: all.subarray(offset, offset + size) });
    offset += size;
  }
  return out;
}

/** The first weight holding NaN or an infinity, with how many such values, or undefined. */
export function nonFinite(tensors: NamedTensors): { name: string; count: number } | undefined {
  for (const [name, t] of tensors) {
    let count = 0;
    for (const v of t.values) if (!Number.isFinite(v)) count++;
    if (count) return { name, count };
  }
  return undefined;
}

function readJson<T>(file: string, dir: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw damaged(dir, code === "ENOENT" ? `${path.basename(file)} is missing` : `cannot read ${path.basename(file)} (${code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw damaged(dir, `${path.basename(file)} is not valid JSON${text.length === 0 ? " (empty)" : ""}`);
  }
}

function readBytes(file: string, dir: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw damaged(dir, code === "ENOENT" ? `${path.basename(file)} is missing` : `cannot read ${path.basename(file)} (${code ?? (error as Error).message})`);
  }
}

/** A model directory's model.json and weights, checked: every file the manifest names, exactly the bytes it describes, finite values. */
export function readModelDirectory(dir: string): { json: ModelJson; weights: Map<string, Tensor> } {
  const json = readJson<ModelJson>(path.join(dir, MODEL_FILE), dir);
  if (!Array.isArray(json.weightsManifest)) throw damaged(dir, `${MODEL_FILE} has no weightsManifest`);
  const specs = json.weightsManifest.flatMap((group) => group.weights ?? []);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((group) => (group.paths ?? []).map((p: string) => readBytes(path.join(dir, p), dir))));
  const weights = decodeTensors(specs, bytes, dir);
  const bad = nonFinite(weights);
  if (bad)
    throw new VnetError("VN118", `${dir}: ${bad.name} holds ${bad.count} NaN or infinite value(s)`, {
      path: dir,
      hint: "these weights are unusable; use an earlier checkpoint or train again",
    });
  return { json, weights };
}

/** model.json's text and weights.bin's bytes for a model. */
function modelFiles(topology: unknown, weights: NamedTensors, extra: Readonly<Record<string, unknown>> = {}): { json: string; data: Uint8Array } {
  const { specs, data } = encodeTensors(weights);
  const json: ModelJson = {
    ...(topology !== undefined ? { modelTopology: topology, format: "layers-model" } : { format: "vnet-weights" }),
    generatedBy: "vnet",
    convertedBy: null,
    ...extra,
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: specs }],
  };
  return { json: JSON.stringify(json), data };
}

/** Writes a model directory (model.json + weights.bin): weights first, then the manifest, each replaced atomically. */
export function writeModelDirectory(dir: string, topology: unknown, weights: NamedTensors, extra: Readonly<Record<string, unknown>> = {}): void {
  const { json, data } = modelFiles(topology, weights, extra);
  makeDirectory(dir);
  writeFileAtomic(path.join(dir, WEIGHTS_FILE), data);
  writeFileAtomic(path.join(dir, MODEL_FILE), json);
}

/** The checkpoint directories of a run: the current one, the previous one, and temporaries of interrupted writes. */
function candidates(runDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  const order = (name: string) => (name === CHECKPOINT ? 0 : name === `${CHECKPOINT}.old` ? 1 : 2);
  return entries
    .filter((e) => e === CHECKPOINT || e === `${CHECKPOINT}.old` || e.startsWith(`${CHECKPOINT}.tmp-`))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((e) => path.join(runDir, e));
}

/** progress.json of a checkpoint directory; one written before sizes and hashes were recorded (no `format`) has its files checked for presence and size only. */
function readProgress(dir: string): ProgressFile {
  const raw = readJson<Partial<ProgressFile>>(path.join(dir, PROGRESS_FILE), dir);
  if (typeof raw !== "object" || raw === null || typeof raw.epoch !== "number" || !Array.isArray(raw.optimizerWeights))
    throw damaged(dir, `${PROGRESS_FILE} lacks the epoch or the optimizer's tensors`);
  if (raw.format === 1) {
    if (!raw.files) throw damaged(dir, `${PROGRESS_FILE} lacks the files' sizes and hashes`);
    return raw as ProgressFile;
  }
  return {
    ...(raw as Progress),
    seed: raw.seed ?? 0,
    network: raw.network ?? "",
    optimizer: raw.optimizer ?? "",
    format: 1,
    architecture: "",
    optimizerWeights: raw.optimizerWeights,
    optimizerScalars: raw.optimizerScalars ?? {},
    files: {},
  };
}

/** Checks a checkpoint directory's files against its progress.json (sizes and hashes); returns the progress. */
export function verifyCheckpoint(dir: string): ProgressFile {
  const progress = readProgress(dir);
  for (const [name, expected] of Object.entries(progress.files)) {
    const bytes = readBytes(path.join(dir, name), dir);
    if (bytes.byteLength !== expected.bytes)
      throw damaged(dir, `${name} has ${bytes.byteLength.toLocaleString("en-US")} bytes, progress.json records ${expected.bytes.toLocaleString("en-US")}`);
    if (sha256(bytes) !== expected.sha256) throw damaged(dir, `${name} does not match its recorded SHA-256 (the file was altered or corrupted)`);
  }
  for (const name of [MODEL_FILE, WEIGHTS_FILE, OPTIMIZER_FILE]) if (!fs.existsSync(path.join(dir, name))) throw damaged(dir, `${name} is missing`);
  return progress;
}

export interface FoundCheckpoint {
  readonly dir: string;
  readonly progress: ProgressFile;
  /** Newer or current candidates passed over, and why. */
  readonly skipped: readonly { readonly dir: string; readonly reason: string }[];
}

/**
 * The newest complete checkpoint of a run directory (by epoch; `checkpoint` first on a tie).
 * Throws VN115 when there is none at all, VN100 when every candidate is damaged.
 */
export function findCheckpoint(runDir: string): FoundCheckpoint {
  const found = candidates(runDir);
  const skipped: { dir: string; reason: string }[] = [];
  let best: { dir: string; progress: ProgressFile } | undefined;
  for (const dir of found) {
    try {
      const progress = verifyCheckpoint(dir);
      if (!best || progress.epoch > best.progress.epoch) best = { dir, progress };
    } catch (error) {
      if (!(error instanceof VnetError)) throw error;
      skipped.push({ dir, reason: error.message.replace(`${dir} is damaged: `, "") });
    }
  }
  if (best) return { ...best, skipped: skipped.filter((s) => path.basename(s.dir) === CHECKPOINT || !s.dir.includes(".tmp-")) };
  if (found.length === 0) {
    const exists = fs.existsSync(runDir);
    throw new VnetError("VN115", exists ? `${runDir} holds no checkpoint (no ${CHECKPOINT}/ directory, and no ${MODEL_FILE})` : `${runDir} does not exist`, {
      path: runDir,
      hint: exists
        ? "a run has a checkpoint once its first epoch ends; start the run without --resume"
        : "give a run directory, its checkpoint/ directory, or a model directory",
    });
  }
  throw damaged(runDir, `no complete checkpoint: ${skipped.map((s) => `${path.basename(s.dir)}: ${s.reason}`).join("; ")}`);
}

/** The weights directory a path names: itself when it holds model.json (a checkpoint or model directory), else the run's newest complete checkpoint. */
export function resolveWeightsDirectory(location: string): { dir: string; progress?: ProgressFile; skipped: FoundCheckpoint["skipped"] } {
  if (fs.existsSync(path.join(location, MODEL_FILE))) {
    if (fs.existsSync(path.join(location, PROGRESS_FILE))) return { dir: location, progress: verifyCheckpoint(location), skipped: [] };
    return { dir: location, skipped: [] };
  }
  try {
    return findCheckpoint(location);
  } catch (error) {
    // A model directory put in a run by hand (weights only: no progress.json, no optimizer state) still holds weights to read.
    const plain = path.join(location, CHECKPOINT);
    if (
      error instanceof VnetError &&
      error.code === "VN100" &&
      fs.existsSync(path.join(plain, MODEL_FILE)) &&
      !fs.existsSync(path.join(plain, PROGRESS_FILE)) &&
      !fs.existsSync(path.join(plain, OPTIMIZER_FILE))
    )
      return { dir: plain, skipped: [] };
    throw error;
  }
}

const named = (tensors: NamedTensors): NamedTensor[] => [...tensors].map(([name, t]) => ({ name, ...t }));
const byName = (tensors: readonly NamedTensor[]): NamedTensors => new Map(tensors.map((t) => [t.name, t]));

/** Reads a checkpoint whole (weights, optimizer state, progress) after checking every file: VN100 when one is damaged. */
export function readCheckpoint(dir: string): ReadCheckpoint {
  const progress = verifyCheckpoint(dir);
  const { json, weights } = readModelDirectory(dir);
  const specs = progress.optimizerWeights.map((t) => ({ name: t.name, shape: t.shape, dtype: "float32" }));
  const optimizer = specs.length ? decodeTensors(specs, readBytes(path.join(dir, OPTIMIZER_FILE), dir), dir) : new Map<string, Tensor>();
  const model = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts["userDefinedMetadata"],
  };
  return { model, weights: named(weights), optimizer: named(optimizer), optimizerScalars: progress.optimizerScalars, progress };
}

let sequence = 0;

/**
 * Writes a checkpoint of `runDir` crash-safely (see the file comment) and returns its directory.
 * A failed write (disk full) throws VN112 and leaves the previous checkpoint in place.
 */
export function writeCheckpoint(runDir: string, contents: CheckpointContents): string {
  const target = path.join(runDir, CHECKPOINT);
  const old = `${target}.old`;
  const temp = `${target}.tmp-${process.pid}-${contents.progress.epoch}-${sequence++}`;
  try {
    guardFileSystem(temp, "create", () => removeTree(temp));
    makeDirectory(temp);
    const { modelTopology, ...fields } = contents.model;
    const model = modelFiles(modelTopology, byName(contents.weights), Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
    const optimizer = encodeTensors(byName(contents.optimizer));
    const files: Record<string, { bytes: number; sha256: string }> = {};
    for (const [name, data] of [
      [WEIGHTS_FILE, model.data],
      [MODEL_FILE, model.json],
      [OPTIMIZER_FILE, optimizer.data],
    ] as const) {
      guardFileSystem(path.join(temp, name), "write", () => writeDurable(path.join(temp, name), data));
      files[name] = { bytes: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) };
    }
    const progress: ProgressFile = {
      ...contents.progress,
      format: 1,
      architecture: architectureSignature(contents.weights),
      optimizerWeights: optimizer.specs.map((s) => ({ name: s.name, shape: s.shape })),
      optimizerScalars: { ...contents.optimizerScalars },
      files,
    };
    // Last: a temporary directory with progress.json and matching files is a complete checkpoint.
    guardFileSystem(path.join(temp, PROGRESS_FILE), "write", () => writeDurable(path.join(temp, PROGRESS_FILE), JSON.stringify(progress, null, 2)));
    syncDirectory(temp);
    guardFileSystem(target, "replace", () => {
      if (fs.existsSync(target)) {
        // `checkpoint` is complete, so the older `checkpoint.old` may go before it takes its place.
        removeTree(old);
        renameDurable(target, old);
      }
      renameDurable(temp, target);
      syncDirectory(runDir);
      removeTree(old);
    });
  } catch (error) {
    if (error instanceof VnetError && error.code === "VN112") {
      try {
        fs.rmSync(temp, { recursive: true, force: true });
      } catch {
        // The message below says what is kept; a leftover temporary is cleaned by the next run.
      }
      const kept = fs.existsSync(target) ? target : fs.existsSync(old) ? old : undefined;
      throw new VnetError(
        "VN112",
        `${error.message.replace(/; nothing was replaced$/, "")}; ${kept ? `the previous checkpoint ${kept} is kept` : "no earlier checkpoint exists"}`,
        { path: error.path ?? runDir, ...(error.hint ? { hint: error.hint } : {}) },
      );
    }
    throw error;
  }
  return target;
}

/**
 * Puts a run's newest complete checkpoint in place as `checkpoint/` and removes what interrupted
 * writes left (older or damaged temporaries, `checkpoint.old`); a damaged `checkpoint/` is kept
 * aside as `checkpoint.damaged/`. Call it holding the run's lock. Returns the checkpoint found
 * (VN115 when the run has none, VN100 when all are damaged).
 */
export function recoverCheckpoint(runDir: string): FoundCheckpoint {
  const found = findCheckpoint(runDir);
  const target = path.join(runDir, CHECKPOINT);
  guardFileSystem(target, "recover", () => {
    if (found.dir !== target) {
      if (fs.existsSync(target)) {
        const damagedCopy = `${target}.damaged`;
        const current = found.skipped.some((s) => s.dir === target);
        if (current) {
          removeTree(damagedCopy);
          renameDurable(target, damagedCopy);
        } else {
          // An older complete `checkpoint`: the newer one (a finished temporary) replaces it.
          if (found.dir !== `${target}.old`) removeTree(`${target}.old`);
          renameDurable(target, `${target}.old`);
        }
      }
      renameDurable(found.dir, target);
      syncDirectory(runDir);
    }
    for (const dir of candidates(runDir)) if (dir !== target) removeTree(dir);
  });
  return { ...found, dir: target };
}

/** Whether a directory holds a training run or a checkpoint (whose weights a model write would replace). */
export function holdsTrainingState(dir: string): boolean {
  if (fs.existsSync(path.join(dir, PROGRESS_FILE)) || fs.existsSync(path.join(dir, OPTIMIZER_FILE))) return true;
  return candidates(dir).length > 0 || fs.existsSync(path.join(dir, "metrics.jsonl"));
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

/**
 * The weights directory a location names (see `resolveWeightsDirectory`): the run's newest
 * complete checkpoint, or the directory itself when it holds model.json. VN115 / VN100 when
 * there is none or every one is damaged.
 */
export function checkpointDir(location: string): string {
  return resolveWeightsDirectory(location).dir;
}

/** The class names a checkpoint was trained with, when it records them. */
export function checkpointClassNames(dir: string): string[] | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, PROGRESS_FILE), "utf8")) as Progress).classNames?.slice();
  } catch {
    return undefined;
  }
}
