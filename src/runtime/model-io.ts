/**
 * tfjs models as files, without tfjs-node: model.json (topology and weight manifest, the layout
 * tfjs-node's `file://` handler writes) plus one weights.bin, read and written through
 * checkpoint.ts (so every read checks the bytes against the manifest). Importing this module
 * registers vnet's custom layers; `ensureFileRouter` also makes `model.save("file://dir")` and
 * `tf.loadLayersModel("file://dir/model.json")` work on backends without tfjs-node.
 *
 * Trained weights are loaded into the model the spec builds (`loadTrainedModel`), never into the
 * topology stored beside them: the spec is the program, the checkpoint holds its weights, and a
 * checkpoint of another architecture is refused (VN116) instead of silently running the old one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import { tfjsWeightName } from "../backends/tfjs/emit.js";
import "../backends/tfjs/registry.js";
import { VnetError } from "../diagnostics/error.js";
import { lowerNetwork } from "../ir/pipeline.js";
import type { CheckedNetwork, Origin } from "../semantics/network.js";
import { architectureDifferences, decodeTensors, MODEL_FILE, readModelDirectory, resolveWeightsDirectory, writeModelDirectory, type NamedTensors, type ProgressFile } from "./checkpoint.js";
import { weightedNodes } from "./weights/by-name.js";
import { assignWeights } from "./weights/tensors.js";

/** An IOHandler that saves to and loads from a directory (each file replaced atomically; reads checked). */
export function fileHandler(directory: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const weights = decodeTensors(artifacts.weightSpecs ?? [], new Uint8Array(data), directory);
      writeModelDirectory(directory, artifacts.modelTopology, weights, {
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const { json, weights } = readModelDirectory(directory);
      const specs = [...weights].map(([name, t]) => ({ name, shape: [...t.shape], dtype: "float32" as const }));
      const joined = new Float32Array(specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0));
      let offset = 0;
      for (const t of weights.values()) joined.set(t.values, offset), (offset += t.values.length);
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
        weightSpecs: specs,
        weightData: joined.buffer,
        ...(json.format ? { format: json.format } : {}),
        ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts["userDefinedMetadata"] } : {}),
      };
    },
  };
}

/** Saves a model to a directory (model.json + weights.bin). */
export async function saveModel(model: tf.LayersModel, directory: string, config?: tf.io.SaveConfig): Promise<tf.io.SaveResult> {
  return model.save(fileHandler(directory), config);
}

/** Loads a model saved by `saveModel` (or by tfjs-node's file:// handler) with the topology stored in it. */
export async function loadModel(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileHandler(directory));
}

/** The weights a network's spec declares, under their tfjs names (as model.json lists them), with the layer declaring each. */
export function declaredWeights(network: CheckedNetwork): { name: string; shape: readonly number[]; origin: Origin }[] {
  return [...weightedNodes(lowerNetwork(network))].flatMap((node) => (node.weights ?? []).map((w) => ({ name: tfjsWeightName(w), shape: w.shape, origin: node.origin })));
}

/** The 1-based line of a source offset (a located error's line), or undefined when the file cannot be read. */
function lineOf(origin: Origin): number | undefined {
  try {
    const text = fs.readFileSync(origin.file, "utf8");
    let line = 1;
    for (let i = 0; i < origin.range.start && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
    return line;
  } catch {
    return undefined;
  }
}

/**
 * Refuses weights of another architecture than the spec's (VN116), listing what differs (a
 * changed layer width, a layer added or removed), located at the first layer that differs.
 */
export function checkArchitecture(network: CheckedNetwork, weights: NamedTensors | readonly { readonly name: string; readonly shape: readonly number[] }[], dir: string, specFile: string = network.file, trainedAs?: string): void {
  const actual = Array.isArray(weights) ? weights : [...(weights as NamedTensors)].map(([name, t]) => ({ name, shape: t.shape }));
  const declared = declaredWeights(network);
  const differences = architectureDifferences(declared, actual);
  if (differences.length === 0) return;
  const have = new Map(actual.map((w) => [w.name, w.shape.join()]));
  const shown = declared.every((w) => !have.has(w.name))
    ? `it holds none of the spec's ${declared.length} weights${trainedAs && trainedAs !== network.name ? ` (it is a checkpoint of ${trainedAs})` : ""}`
    : differences.slice(0, 3).join("; ") + (differences.length > 3 ? `; and ${differences.length - 3} more` : "");
  const first = declared.find((w) => have.get(w.name) !== w.shape.join());
  const line = first ? lineOf(first.origin) : undefined;
  throw new VnetError("VN116", `the weights in ${dir} belong to another architecture than ${network.name} in ${path.basename(specFile)}: ${shown}`, {
    path: first && line !== undefined ? first.origin.file : dir,
    ...(first && line !== undefined ? { line } : {}),
    hint: "give the spec these weights were trained with, or train (or --init) a new run for the changed spec",
  });
}

/** Trained weights found for a spec, checked against it (see `checkTrainedWeights`). */
export interface TrainedWeights {
  /** The weights directory read (a run's newest complete checkpoint, or the directory given). */
  readonly dir: string;
  readonly progress?: ProgressFile;
  /** The class names the weights were trained with, when recorded. */
  readonly classNames?: readonly string[];
  /** What the user should know: a damaged newer checkpoint passed over, a spec edited since training. */
  readonly notes: readonly string[];
  /** The weights by tfjs name. */
  readonly weights: NamedTensors;
  /** model.json's userDefinedMetadata (class names, the test protocol, a localizer's feature recipe). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface TrainedModel extends TrainedWeights {
  readonly model: tf.LayersModel;
}

/**
 * The trained weights of a run, checkpoint or model directory for the spec's network, before
 * any model is built or any video read: the newest complete checkpoint (VN115 none, VN100
 * damaged), checked against the spec's architecture (VN116). `specHash` (checkpoint.ts
 * `programHash`) adds a note when the spec changed since the checkpoint without changing its weights.
 */
export function checkTrainedWeights(network: CheckedNetwork, location: string, options: { specHash?: string } = {}): TrainedWeights {
  const found = resolveWeightsDirectory(location);
  const { weights, json } = readModelDirectory(found.dir);
  checkArchitecture(network, weights, found.dir, network.file, found.progress?.network);
  const notes = found.skipped.map((s) => `note: ${s.dir} is damaged (${s.reason}); using ${found.dir}${found.progress ? ` (epoch ${found.progress.epoch})` : ""}`);
  if (options.specHash && found.progress?.specHash && found.progress.specHash !== options.specHash) notes.push(`note: ${network.file} changed since ${found.dir} was written; its weights still fit (same layers and shapes)`);
  const classNames = found.progress?.classNames ?? (json.userDefinedMetadata as { vnet?: { classNames?: string[] } } | undefined)?.vnet?.classNames;
  const metadata = json.userDefinedMetadata;
  return { dir: found.dir, ...(found.progress ? { progress: found.progress } : {}), ...(classNames ? { classNames } : {}), notes, weights, ...(metadata ? { metadata } : {}) };
}

/** The spec's model with the trained weights of `checkTrainedWeights`, loaded by name into a freshly built model. */
export async function loadTrainedModel(network: CheckedNetwork, location: string, options: { specHash?: string } = {}): Promise<TrainedModel> {
  const trained = checkTrainedWeights(network, location, options);
  const { model } = compileToTfjs(network, { seed: 0 });
  if (!model) throw new Error(`internal: ${network.name} was checked but does not compile to tfjs`);
  assignWeights(model, trained.weights);
  if (trained.metadata) model.setUserDefinedMetadata(trained.metadata as object);
  return { ...trained, model };
}

const FILE_SCHEME = "file://";

/** The directory of a `file://` URL (a trailing model.json names the directory it is in). */
function directoryOf(url: string): string {
  const p = url.slice(FILE_SCHEME.length);
  return p.endsWith(MODEL_FILE) ? path.dirname(p) : p;
}

let routerRegistered = false;

/**
 * Registers a `file://` handler unless one exists (tfjs-node has its own). Call it after the
 * backend is chosen: two handlers for one scheme make tfjs refuse to save.
 */
export function ensureFileRouter(): void {
  if (routerRegistered || tf.io.getSaveHandlers(`${FILE_SCHEME}probe`).length > 0) return;
  routerRegistered = true;
  // A router answers null for URLs it does not handle (tfjs's own routers do the same).
  const route = (url: string | string[]) => (typeof url === "string" && url.startsWith(FILE_SCHEME) ? fileHandler(directoryOf(url)) : (null as unknown as tf.io.IOHandler));
  tf.io.registerSaveRouter(route);
  tf.io.registerLoadRouter(route);
}
