/**
 * `vnet features <spec> --weights <run> --data <videos> -o <dir>`: runs a trained classifier over
 * untrimmed videos as a sliding window and writes each video's snippet features (a named layer's
 * output, by default the pooled features before the classifier), resampled to a fixed temporal
 * scale, with the extractor's class scores, the annotations and a manifest: the folder a
 * localizer trains on (src/runtime/features.ts). Snippet length, step and scale come from the
 * flags, else the spec's `features` section.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeActivityNet } from "../../data/annotations.js";
import { ANNOTATIONS } from "../../data/features.js";
import { flowStreams } from "../../data/flow.js";
import { formatIssue, issueOf, skippedSummary, type DataIssue } from "../../data/issues.js";
import { ViewLoader } from "../../data/loader.js";
import { BUILTIN_UNTRIMMED, openUntrimmed } from "../../data/untrimmed-sources.js";
import { UNTRIMMED_CLASSES } from "../../data/untrimmed.js";
import { programSources } from "../../backends/onnx/index.js";
import { extractFeatures, featureModel, FeatureLayerError, weightsHash, type ExtractionContext } from "../../runtime/features.js";
import type { BackendChoice } from "../../runtime/backend.js";
import { checkpointClassNames } from "../../runtime/checkpoint.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, LOADING_FLAGS, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { checkFeaturesDirectory } from "../outputs.js";
import { checkRunnableNetwork, loadingOptions, readWeightsFlag, reportIssues, startBackend, trainedModel } from "../run-util.js";
import { shownPath } from "../util.js";

function bar(fraction: number, width = 20): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export const command = defineCommand({
  name: "features",
  usage:
    "features <spec> --weights <run-dir> --data <builtin:motion-untrimmed | folder | video> -o <dir> [--layer NAME] [--length N] [--step N] [--scale N] [options]",
  description:
    "Runs a trained classifier over untrimmed videos as a sliding window and writes each video's snippet features ([T, F] .npy, resampled to --scale positions as BMN's pipeline does), the classifier's snippet scores, the annotations and a manifest: the folder `vnet train` trains a localizer on. Cached by video content, spec and weights.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "the classifier's run or checkpoint directory" },
    data: {
      type: "string",
      value: `${BUILTIN_UNTRIMMED}|FOLDER|VIDEO`,
      doc: "untrimmed videos: the builtin ones, a folder of videos (annotations.json beside them), or one video",
    },
    out: { type: "string", alias: "-o", value: "DIR", doc: "the features folder to write" },
    annotations: { type: "string", value: "FILE", doc: "ActivityNet-style JSON or a folder of THUMOS-style lists (default: the folder's annotations.json)" },
    layer: { type: "string", value: "NAME", doc: "the layer whose output to keep (default: the input of the final classifier)" },
    length: { type: "int", min: 1, doc: "raw frames per snippet (default: the spec's `features` section, else the input clip at its test frame step)" },
    step: { type: "int", min: 1, doc: "raw frames between snippet starts (default: the section's, else half the length)" },
    scale: { type: "int", min: 0, max: 100000, doc: "positions to resample to (default: the section's, else 100; 0 keeps the snippets)" },
    trainVideos: { type: "int", min: 0, max: 100000, doc: `${BUILTIN_UNTRIMMED}: training videos (default 32)` },
    valVideos: { type: "int", min: 0, max: 100000, doc: `${BUILTIN_UNTRIMMED}: validation videos (default 16)` },
    batch: { type: "int", min: 1, doc: "snippets per model call (default 32)" },
    seed: SEED_FLAG,
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    ...LOADING_FLAGS,
  },
  async run({ positional, flags }, { out, progress, color }) {
    if (!flags.weights) throw new UsageError("vnet features needs the classifier's weights: --weights <run-dir>");
    if (!flags.data) throw new UsageError(`vnet features needs --data (${BUILTIN_UNTRIMMED}, a folder of videos, or a video file)`);
    if (!flags.out) throw new UsageError("vnet features needs an output folder: -o <dir>");
    checkFeaturesDirectory(flags.out, [
      { path: positional[0]!, what: "the spec" },
      { path: flags.weights, what: "the weights" },
      ...(flags.data.startsWith("builtin:")
        ? []
        : [{ path: flags.data, what: fs.existsSync(flags.data) && fs.statSync(flags.data).isDirectory() ? "the videos' folder" : "the video" }]),
      ...(flags.annotations ? [{ path: flags.annotations, what: "the annotations" }] : []),
    ]);
    const extractor = await openExtractor(positional[0]!, flags.network, flags.weights, flags.layer, flags.backend, out, color);
    if (typeof extractor === "number") return extractor;
    const { network, protocol, classNames, features } = extractor;
    const section = (network.sections.features ?? {}) as { length?: number; step?: number; scale?: number };
    const length = flags.length ?? section.length;
    const step = flags.step ?? section.step;
    const scale = flags.scale ?? section.scale ?? 100;
    const loading = loadingOptions(flags);
    const set = await openUntrimmed(flags.data, {
      cacheDir: loading.cacheDir,
      seed: flags.seed ?? 0,
      size: protocol.height,
      // The builtin actions are the classifier's classes (its first ones: translations and rotations).
      classes: Math.min(classNames.length, UNTRIMMED_CLASSES.length),
      ...(flags.annotations ? { annotations: flags.annotations } : {}),
      ...(flags.trainVideos !== undefined ? { trainVideos: flags.trainVideos } : {}),
      ...(flags.valVideos !== undefined ? { valVideos: flags.valVideos } : {}),
    });
    reportIssues(set.issues, out, false);
    if (set.videos.length === 0) {
      extractor.dispose();
      out(formatIssue({ code: "VN097", path: flags.data, message: "no usable videos" }));
      return 1;
    }
    const loader = new ViewLoader({ geometry: protocol, flows: extractor.flows, ...loading });
    const failures: DataIssue[] = [];
    const started = performance.now();
    out(
      `extracting ${features.features} features per snippet from ${network.name}'s layer ${features.layer} (${features.classes} class scores) for ${set.videos.length} videos of ${set.name}${scale > 0 ? `, resampled to ${scale} positions` : ""}`,
    );
    let manifest;
    try {
      manifest = await extractFeatures(set.videos, { ...(length ? { length } : {}), ...(step ? { step } : {}), scale }, flags.out, {
        ...extractor,
        loader,
        batch: flags.batch ?? 32,
        cacheDir: loading.cacheDir,
        progress: (done, total, snippets) => {
          const seconds = (performance.now() - started) / 1000;
          progress(
            `\rfeatures ${bar(done / total)} ${done}/${total} videos, ${snippets} snippets, ${(snippets / seconds).toFixed(1)} snippets/s${done === total ? "\n" : ""}`,
          );
        },
        onFailure: (_video, error) => failures.push(issueOf(error)),
      });
    } finally {
      await loader.close();
      extractor.dispose();
    }
    for (const issue of failures) out(formatIssue(issue));
    const written = Object.keys(manifest.videos);
    if (set.annotations) {
      const have = new Set(written);
      writeActivityNet(
        path.join(flags.out, ANNOTATIONS),
        set.annotations.filter((a) => have.has(a.id)),
      );
    }
    const snippets = Object.values(manifest.videos).reduce((n, v) => n + v.snippets, 0);
    const seconds = (performance.now() - started) / 1000;
    out(
      `wrote the features of ${written.length} videos (${snippets} snippets of ${manifest.extractor.length} frames every ${manifest.extractor.step}, ${(snippets / seconds).toFixed(1)} snippets/s) to ${shownPath(flags.out)}/: <video>.npy [${scale > 0 ? scale : "snippets"}, ${features.features}], <video>.scores.npy, features.json${set.annotations ? `, ${ANNOTATIONS}` : ""}`,
    );
    const summary = skippedSummary([...set.issues, ...failures]);
    if (summary) out(summary);
    return written.length > 0 ? 0 : 1;
  },
});

/** A trained classifier ready to extract features: the checked network, its feature model, what the manifest records of it. */
export interface OpenExtractor extends Pick<ExtractionContext, "network" | "graph" | "features" | "identity" | "classNames" | "protocol" | "flows"> {
  dispose(): void;
}

/**
 * Checks a classifier spec, starts the tfjs backend and loads its trained weights as a feature
 * model of `layer` (default: the input of the final classifier); a diagnostic's exit code when
 * the spec does not check. `backendStarted`: the caller has started (and reported) the backend. `vnet features` and `vnet localize <video>` extract with it.
 */
export async function openExtractor(
  spec: string,
  networkName: string | undefined,
  weights: string,
  layer: string | undefined,
  backend: BackendChoice | undefined,
  out: (s: string) => void,
  color: boolean,
  backendStarted = false,
): Promise<OpenExtractor | number> {
  const checked = checkRunnableNetwork(spec, networkName, out, color);
  if (typeof checked === "number") return checked;
  const { network, graph, result } = checked;
  const store = await readWeightsFlag(weights);
  const dir = store.directory!;
  const classNames = checkpointClassNames(dir) ?? network.classNames ?? Array.from({ length: network.classes ?? 0 }, (_, k) => `class ${k}`);
  // A caller that started the backend already has printed its choice.
  await startBackend(backend, backendStarted ? () => undefined : out, false, network);
  const model = trainedModel(graph, result, store, out, color);
  if (typeof model === "number") return model;
  let features;
  try {
    features = featureModel(network, graph, model, layer);
  } catch (error) {
    model.dispose();
    if (error instanceof FeatureLayerError) throw new UsageError(error.message);
    throw error;
  }
  const sources = programSources(result);
  const specHash = createHash("sha256")
    .update(JSON.stringify([...sources].sort(([a], [b]) => (a < b ? -1 : 1))))
    .digest("hex");
  return {
    network,
    graph,
    features,
    identity: { spec: path.resolve(network.file), network: network.name, specHash, weights: path.resolve(dir), weightsHash: weightsHash(dir) },
    classNames,
    protocol: graph.protocol!,
    flows: flowStreams(graph),
    dispose: () => model.dispose(),
  };
}
