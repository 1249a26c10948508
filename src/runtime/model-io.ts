/**
 * Saving and loading tfjs models as files without tfjs-node: model.json (topology and weight
 * manifest, the layout tfjs-node's `file://` handler writes) plus one weights.bin. Importing this
 * module registers vnet's custom layers; `ensureFileRouter` also makes `model.save("file://dir")`
 * and `tf.loadLayersModel("file://dir/model.json")` work on backends without tfjs-node.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import "../backends/tfjs/registry.js";
import { writeFileAtomic } from "./files.js";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

/** An IOHandler that saves to and loads from a directory. Writes are atomic: temp file, then rename. */
export function fileHandler(directory: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      fs.mkdirSync(directory, { recursive: true });
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const manifest: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeFileAtomic(path.join(directory, WEIGHTS_FILE), Buffer.from(weights));
      writeFileAtomic(path.join(directory, MODEL_FILE), JSON.stringify(manifest));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(fs.readFileSync(path.join(directory, MODEL_FILE), "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(directory, p))));
        const specs = manifest.flatMap((group) => group.weights);
        const joined = Buffer.concat(buffers);
        return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
      });
    },
  };
}

/** Saves a model to a directory (model.json + weights.bin). */
export async function saveModel(model: tf.LayersModel, directory: string, config?: tf.io.SaveConfig): Promise<tf.io.SaveResult> {
  return model.save(fileHandler(directory), config);
}

/** Loads a model saved by `saveModel` (or by tfjs-node's file:// handler). */
export async function loadModel(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileHandler(directory));
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
