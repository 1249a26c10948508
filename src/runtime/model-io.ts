/**
 * tfjs models as files, without tfjs-node: model.json (topology and weight manifest, the layout
 * tfjs-node's `file://` handler writes) plus one weights.bin, read and written through
 * checkpoint.ts (so every read checks the bytes against the manifest). Importing this module
 * registers vnet's custom layers; `ensureFileRouter` also makes `model.save("file://dir")` and
 * `tf.loadLayersModel("file://dir/model.json")` work on backends without tfjs-node.
 *
 * `--resume` refuses a checkpoint of another architecture than the spec's (`checkArchitecture`,
 * VN116) instead of silently training the old network.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../backends/tfjs/registry.js";
import { VnetError } from "../diagnostics/error.js";
import type { IrGraph } from "../ir/graph.js";
import { declaredWeights, storedWeightName } from "../ir/weights.js";
import type { Origin } from "../semantics/network.js";
import { architectureDifferences, decodeTensors, MODEL_FILE, readModelDirectory, writeModelDirectory } from "./checkpoint.js";

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
      for (const t of weights.values()) (joined.set(t.values, offset), (offset += t.values.length));
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

/** The weights a network's graph declares, under their stored names (as model.json lists them), with the layer declaring each. */
function graphWeights(graph: IrGraph): { name: string; shape: readonly number[]; origin: Origin }[] {
  return [...declaredWeights(graph)].map(({ node, decl }) => ({ name: storedWeightName(decl), shape: decl.shape, origin: node.origin }));
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
 * Refuses a checkpoint of another architecture than the spec's graph (VN116) before training
 * resumes from it, listing what differs (a changed layer width, a layer added or removed),
 * located at the first layer that differs.
 */
export function checkArchitecture(
  graph: IrGraph,
  weights: readonly { readonly name: string; readonly shape: readonly number[] }[],
  dir: string,
  trainedAs?: string,
): void {
  const declared = graphWeights(graph);
  const differences = architectureDifferences(declared, weights);
  if (differences.length === 0) return;
  const have = new Map(weights.map((w) => [w.name, w.shape.join()]));
  const shown = declared.every((w) => !have.has(w.name))
    ? `it holds none of the spec's ${declared.length} weights${trainedAs && trainedAs !== graph.name ? ` (it is a checkpoint of ${trainedAs})` : ""}`
    : differences.slice(0, 3).join("; ") + (differences.length > 3 ? `; and ${differences.length - 3} more` : "");
  const first = declared.find((w) => have.get(w.name) !== w.shape.join());
  const line = first ? lineOf(first.origin) : undefined;
  const specFile = first?.origin.file ?? graph.file;
  throw new VnetError("VN116", `the weights in ${dir} belong to another architecture than ${graph.name} in ${path.basename(specFile)}: ${shown}`, {
    path: first && line !== undefined ? first.origin.file : dir,
    ...(first && line !== undefined ? { line } : {}),
    hint: "give the spec these weights were trained with, or train (or --init) a new run for the changed spec",
  });
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
  const route = (url: string | string[]) =>
    typeof url === "string" && url.startsWith(FILE_SCHEME) ? fileHandler(directoryOf(url)) : (null as unknown as tf.io.IOHandler);
  tf.io.registerSaveRouter(route);
  tf.io.registerLoadRouter(route);
}
