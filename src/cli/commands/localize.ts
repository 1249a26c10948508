/**
 * `vnet localize <spec> --weights <run> <video | features>`: a trained localizer's segments of
 * untrimmed videos, after BMN's post-processing (score fusion, soft-NMS, top-K), each labelled by
 * the feature extractor's snippet scores (src/runtime/localization/localize.ts).
 *   <features folder>         every video of a `vnet features` folder (or --video ID of it)
 *   <folder>/<video>.npy      one video of a features folder
 *   <video file>              the video's features first, with the extractor the localizer was
 *                             trained on (its spec, weights, layer, snippets and scale, recorded in
 *                             the run), cached like `vnet features`
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MANIFEST, readFeatures, readManifest, type FeatureManifest, type FeatureVideo } from "../../data/features.js";
import { DataError } from "../../data/issues.js";
import { ViewLoader } from "../../data/loader.js";
import { openUntrimmed } from "../../data/untrimmed-sources.js";
import { extractFeatures } from "../../runtime/features.js";
import { tfjsInference } from "../../runtime/engines/tfjs.js";
import { activityNetResults, localizeVideos, type Detection } from "../../runtime/localization/localize.js";
import { BMN_POST_PROCESSING } from "../../runtime/localization/proposals.js";
import { localizerGeometry } from "../../runtime/localization/train.js";
import { loadModel } from "../../runtime/model-io.js";
import { checkpointDir } from "../../runtime/checkpoint.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, LOADING_FLAGS, NETWORK_FLAG } from "../flags.js";
import { checkRunnableNetwork, loadingOptions, startBackend } from "../run-util.js";
import { openExtractor } from "./features.js";

/** How a localizer's features were extracted, as `vnet train` records it in the run. */
interface FeatureRecipe {
  readonly spec: string;
  readonly network: string;
  readonly weights: string;
  readonly layer: string;
  readonly length: number;
  readonly step: number;
  readonly scale: number;
}

/** The videos of a features folder (all, or the one named), as a localizer reads them. */
function folderVideos(dir: string, manifest: FeatureManifest, only: string | undefined): FeatureVideo[] {
  const ids = only === undefined ? Object.keys(manifest.videos).sort() : [only];
  return ids.map((id) => {
    const entry = manifest.videos[id];
    if (!entry)
      throw new DataError(
        "VN122",
        dir,
        `the features folder has no video ${id}${only === undefined ? "" : ` (it has ${Object.keys(manifest.videos).slice(0, 5).join(", ")}${Object.keys(manifest.videos).length > 5 ? ", ..." : ""})`}`,
      );
    const { features, scores, positions } = readFeatures(dir, id, entry, manifest.extractor);
    return { id, features, scores, positions, duration: entry.duration, span: entry.span, segments: [] };
  });
}

const seconds = (x: number) => x.toFixed(2).padStart(7);

/** One video's segments as text lines. */
function formatDetections(video: FeatureVideo, detections: readonly Detection[], top: number): string[] {
  const lines = [`${video.id} (${video.duration.toFixed(1)} s): ${detections.length} segments${detections.length > top ? `, the best ${top}` : ""}`];
  for (const d of [...detections].sort((a, b) => b.score - a.score).slice(0, top))
    lines.push(
      `  ${seconds(d.start)} - ${seconds(d.end)} s  ${d.label.padEnd(16)} score ${d.score.toFixed(3)} (proposal ${d.proposalScore.toFixed(3)} x class ${d.classProbability.toFixed(3)})`,
    );
  return lines;
}

export const command = defineCommand({
  name: "localize",
  usage: "localize <spec> --weights <run-dir> <video | features-folder | features.npy> [--top N] [--video ID] [--results FILE] [options]",
  description:
    "Finds the actions in untrimmed videos with a trained localizer: BMN's proposals after score fusion and soft-NMS (alpha 0.4, thresholds 0.5 / 0.9, top 100), each labelled and scored by the feature extractor's snippet scores. Reads a features folder (`vnet features`), one video's .npy of it, or a video file, whose features it extracts with the classifier the localizer was trained on.",
  positional: { names: "spec file and input", min: 2, max: 2 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "the localizer's run or checkpoint directory" },
    top: { type: "int", min: 1, doc: "segments printed per video (default 5)" },
    video: { type: "string", value: "ID", doc: "a features folder: only this video" },
    results: { type: "string", value: "FILE", doc: "also write every video's segments as ActivityNet-style results JSON" },
    batch: { type: "int", min: 1, doc: "snippets per model call when extracting features (default 32)" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    ...LOADING_FLAGS,
  },
  async run({ positional, flags }, { out, progress, color }) {
    if (!flags.weights) throw new UsageError("vnet localize needs the localizer's weights: --weights <run-dir>");
    const input = positional[1]!;
    const checked = checkRunnableNetwork(positional[0]!, flags.network, out, color, ["localization"]);
    if (typeof checked === "number") return checked;
    const { network } = checked;
    const geometry = localizerGeometry(checked.graph);
    const dir = checkpointDir(flags.weights);
    await startBackend(flags.backend, out, false, network);
    let model;
    try {
      model = await loadModel(dir);
    } catch (error) {
      throw new UsageError(`cannot load weights from ${flags.weights}: ${(error as Error).message.split("\n")[0]}`);
    }
    try {
      const recipe = ((model.getUserDefinedMetadata() ?? {}) as { vnet?: { features?: FeatureRecipe } }).vnet?.features;
      let videos: FeatureVideo[];
      let classNames: readonly string[];
      let stat: fs.Stats | undefined;
      try {
        stat = fs.statSync(input);
      } catch {
        throw new DataError("VN090", input, "no such video, features folder or .npy file");
      }
      if (stat.isDirectory() || input.endsWith(".npy")) {
        const folder = stat.isDirectory() ? input : path.dirname(input);
        const manifest = readManifest(folder);
        const id = stat.isDirectory()
          ? flags.video
          : Object.entries(manifest.videos).find(([, e]) => path.resolve(folder, e.features) === path.resolve(input))?.[0];
        if (!stat.isDirectory() && id === undefined)
          throw new DataError("VN122", input, `${path.basename(input)} is not a video's features in ${path.join(folder, MANIFEST)}`);
        if (!stat.isDirectory() && flags.video !== undefined) throw new UsageError("--video picks a video of a features folder; the .npy names one already");
        videos = folderVideos(folder, manifest, id);
        classNames = manifest.extractor.classNames;
      } else {
        if (flags.video !== undefined) throw new UsageError("--video picks a video of a features folder");
        if (!recipe)
          throw new UsageError(
            `${flags.weights} does not record the feature extractor it was trained on; extract the video's features with \`vnet features\` and localize the folder`,
          );
        const extractor = await openExtractor(recipe.spec, recipe.network, recipe.weights, recipe.layer, flags.backend, out, color, true);
        if (typeof extractor === "number") return extractor;
        classNames = extractor.classNames;
        const loading = loadingOptions(flags);
        const set = await openUntrimmed(input, { cacheDir: loading.cacheDir });
        if (set.videos.length !== 1) {
          // The probe's own reason (empty file, ffmpeg cannot read it, ...) where it gave one.
          const issue = set.issues[0];
          throw issue ? new DataError(issue.code, issue.path, issue.message, issue.line) : new DataError("VN090", input, "not a video vnet can read");
        }
        const loader = new ViewLoader({ geometry: extractor.protocol, flows: extractor.flows, ...loading });
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-localize-"));
        let failure: Error | undefined;
        try {
          const started = performance.now();
          const manifest = await extractFeatures(set.videos, { length: recipe.length, step: recipe.step, scale: recipe.scale }, temp, {
            ...extractor,
            loader,
            batch: flags.batch ?? 32,
            cacheDir: loading.cacheDir,
            progress: (_done, _total, snippets) =>
              progress(
                `\rfeatures of ${set.videos[0]!.id}: ${snippets} snippets, ${(snippets / ((performance.now() - started) / 1000)).toFixed(1)} snippets/s\n`,
              ),
            onFailure: (_video, error) => (failure = error),
          });
          // A video that cannot be read ends the command as an error (as vnet predict's does), not a skipped warning.
          if (failure) throw failure;
          videos = folderVideos(temp, manifest, undefined);
        } finally {
          await loader.close();
          extractor.dispose();
          fs.rmSync(temp, { recursive: true, force: true });
        }
      }
      const mismatch = videos.find((v) => v.positions !== geometry.positions || v.features.length !== v.positions * geometry.features);
      if (mismatch)
        throw new DataError(
          "VN123",
          input,
          `${mismatch.id}'s features are [${mismatch.positions}, ${mismatch.features.length / mismatch.positions}] but ${network.name} reads [${geometry.positions}, ${geometry.features}]`,
        );
      const started = performance.now();
      const detections = await localizeVideos(tfjsInference(model), videos, geometry, classNames, BMN_POST_PROCESSING);
      const ms = (performance.now() - started) / videos.length;
      const top = flags.top ?? 5;
      videos.forEach((v, i) => {
        for (const line of formatDetections(v, detections[i]!, top)) out(line);
      });
      out(`${network.name}: ${videos.length} video${videos.length === 1 ? "" : "s"}, ${ms.toFixed(1)} ms per video (network and post-processing)`);
      if (flags.results) {
        writeFileAtomic(flags.results, activityNetResults(videos, detections));
        out(`wrote ${flags.results} (ActivityNet results format)`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
