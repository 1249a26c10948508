/**
 * `vnet eval <spec> --weights <run-dir | checkpoint dir> --data <builtin:motion | folder | list>`:
 * evaluates trained weights on a split (validation by default) with the spec's test protocol
 * (clips x crops per video, averaged as the spec says) and prints top-1, top-5, per-class
 * accuracy and a confusion matrix (`--confusion-png FILE` also draws it). Videos that cannot be
 * used are reported and skipped.
 */
import type * as tf from "@tensorflow/tfjs";
import type { SplitName } from "../../data/dataset.js";
import { type FlowStream, flowStreams } from "../../data/flow.js";
import { formatIssue, skippedSummary } from "../../data/issues.js";
import { writeConfusionPng } from "../../runtime/confusion-png.js";
import { formatReport } from "../../runtime/evaluate.js";
import { openFeatureSplits } from "../../data/features.js";
import type { BackendChoice } from "../../runtime/backend.js";
import { writeFileAtomic } from "../../runtime/files.js";
import {
  activityNetResults,
  formatLocalizationReport,
  localizationReport,
  localizeVideos,
  slidingWindowDetections,
} from "../../runtime/localization/localize.js";
import { BMN_POST_PROCESSING } from "../../runtime/localization/proposals.js";
import { evalDetector } from "../detection.js";
import { type Classifier, classifierSplit, evaluationSplit, scoreClassifier } from "../evaluation.js";
import { checkFeatureFit, localizerGeometry } from "../../runtime/localization/train.js";
import { type CheckpointOnnx, onnxInference, onnxScorer } from "../../runtime/onnx-eval.js";
import type { TaskInference } from "../../runtime/engines/engine.js";
import { tfjsInference } from "../../runtime/engines/tfjs.js";
import type { OnnxProvider } from "../../runtime/onnx.js";
import { UsageError } from "../args.js";
import { checkOutputFile, datasetInputs, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, DATA_VALUE, LOADING_FLAGS, NETWORK_FLAG, PROVIDER_FLAG, RUN_ENGINE_FLAG, SEED_FLAG } from "../flags.js";
import { checkRunnableNetwork, inMemoryOnnx, loadingOptions, readWeightsFlag, reportIssues, startBackend, trainedModel } from "../run-util.js";
import { shownPath } from "../util.js";
import type { CheckedSpec } from "../util.js";
import type { WeightStore } from "../../weights/store.js";

const SPLITS = ["val", "test", "train"] as const satisfies readonly SplitName[];

export const command = defineCommand({
  name: "eval",
  usage: "eval <spec> --weights <run-dir> --data <builtin:motion | folder | list> [--split val|test|train] [--confusion-png FILE] [options]",
  description:
    "Evaluates trained weights with the spec's test protocol (clips x crops per video, averaged as the spec says): top-1, top-5, per-class accuracy and the confusion matrix.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "a run directory or checkpoint directory" },
    data: { type: "string", value: `${DATA_VALUE}|FEATURES`, doc: "the dataset (a localizer's: a features folder)" },
    split: { type: "choice", choices: SPLITS, doc: "the split to evaluate (default: val, or test when there is no val split)" },
    confusionPng: { type: "string", value: "FILE", doc: "also draw the confusion matrix to a PNG file" },
    annotations: { type: "string", value: "FILE", doc: "a localizer's annotations when the features folder has none" },
    baseline: { type: "switch", doc: "a localizer: also evaluate uniform sliding windows scored by the extractor's snippet scores" },
    results: { type: "string", value: "FILE", doc: "a localizer: write its detections as ActivityNet-style results JSON" },
    batch: { type: "int", min: 1, doc: "views per model call (at least one video's views)" },
    valClips: { type: "int", min: 1, doc: "builtin data: validation clips per class" },
    valFraction: { type: "number", min: 0, below: 1, doc: "folders and lists without a val split: the share held out for validation" },
    seed: SEED_FLAG,
    network: NETWORK_FLAG,
    engine: RUN_ENGINE_FLAG,
    provider: PROVIDER_FLAG,
    backend: BACKEND_FLAG,
    ...LOADING_FLAGS,
  },
  async run({ positional, flags }, { out, color }) {
    if (positional[0]!.toLowerCase().endsWith(".onnx"))
      throw new UsageError(
        "vnet eval evaluates a spec with its trained weights (vnet eval <spec> --weights <run-dir> --data ...; on ONNX Runtime by default); " +
          "an ONNX file runs with vnet predict <model.onnx> <video> or vnet detect, and one exported elsewhere is evaluated after vnet weights import onto its spec",
      );
    const weights = flags.weights;
    if (!weights) throw new UsageError("vnet eval needs --weights <run-dir or checkpoint directory>");
    const data = flags.data;
    if (!data) throw new UsageError("vnet eval needs --data (builtin:motion, builtin:motion-appearance, or a video folder or list file)");
    const checked = checkRunnableNetwork(positional[0]!, flags.network, out, color, ["classification", "localization", "detection"]);
    if (typeof checked === "number") return checked;
    const { network, graph } = checked;
    if (network.task === "localization") return evalLocalizer(checked, weights, data, flags, out, color);
    if (network.task === "detection") return evalDetector(checked, weights, data, flags, out, color);
    if (flags.annotations !== undefined || flags.baseline || flags.results !== undefined)
      throw new UsageError("--annotations, --baseline and --results evaluate localizers");
    const seed = flags.seed ?? 0;
    const loading = loadingOptions(flags);
    const store = await readWeightsFlag(weights);
    // The picture's path is checked before any video is read: never the spec, the weights or the dataset.
    if (flags.confusionPng)
      checkOutputFile("--confusion-png", flags.confusionPng, [
        ...specInputs(checked.result.program.modules.keys(), checked.file),
        { path: store.directory!, what: "the weights being evaluated" },
        ...datasetInputs(data),
      ]);
    const { dataset, split: chosen, items } = await classifierSplit(data, graph, store.directory!, { ...flags, seed, cacheDir: loading.cacheDir }, out);
    if (items.length === 0) {
      out(formatIssue({ code: "VN097", path: data, message: `no usable videos in the ${chosen} split` }));
      return 1;
    }
    const runtime = await evaluationRuntime<Classifier>(checked, store, { ...flags, flows: flowStreams(graph), color }, out, {
      onnx: onnxScorer,
      tfjs: (model) => model,
    });
    if (typeof runtime === "number") return runtime;
    const { model, release } = runtime;
    let scored;
    try {
      scored = await scoreClassifier(model, graph, items, { loading, batch: flags.batch, classNames: dataset.classNames }, out);
    } finally {
      await release();
    }
    out(`${network.name} on ${dataset.name} (${chosen} split${dataset.name.startsWith("builtin:") ? `, seed ${seed}` : ""}):`);
    const report = scored.report;
    if (!report) {
      out(formatIssue({ code: "VN097", path: data, message: `no video of the ${chosen} split could be read` }));
      return 1;
    }
    out(formatReport(report));
    const picture = flags.confusionPng;
    if (picture) {
      writeConfusionPng(picture, report.confusion);
      out(`wrote the confusion matrix as a picture to ${picture} (rows: true class, darker = more of the row)`);
    }
    const summary = skippedSummary([...dataset.issues, ...scored.failures]);
    if (summary) out(summary);
    return 0;
  },
});

/**
 * `vnet eval` of a localizer: BMN's post-processed proposals of every video of a split, labelled by
 * the extractor's snippet scores; AR@AN with its AUC and mAP at tIoU 0.5:0.05:0.95. In ONNX
 * Runtime unless `--engine tfjs` (or the network does not export).
 */
async function evalLocalizer(
  checked: CheckedSpec,
  weights: string,
  data: string,
  flags: {
    readonly split: SplitName | undefined;
    readonly annotations: string | undefined;
    readonly baseline: boolean;
    readonly results: string | undefined;
    readonly batch: number | undefined;
    readonly engine: string | undefined;
    readonly provider: OnnxProvider | undefined;
    readonly backend: BackendChoice | undefined;
  },
  out: (s: string) => void,
  color: boolean,
): Promise<number> {
  const { network, graph } = checked;
  const splits = openFeatureSplits(data, flags.annotations ? { annotations: flags.annotations } : {});
  checkFeatureFit(graph, splits);
  reportIssues(splits.issues, out, false);
  const chosen = evaluationSplit(flags.split, splits);
  const videos = splits[chosen].filter((v) => v.segments.length > 0);
  if (videos.length === 0) {
    out(formatIssue({ code: "VN097", path: data, message: `no annotated video of the ${chosen} split has features here` }));
    return 1;
  }
  const runtime = await evaluationRuntime<TaskInference>(checked, await readWeightsFlag(weights), { ...flags, flows: [], color }, out, {
    onnx: onnxInference,
    tfjs: tfjsInference,
  });
  if (typeof runtime === "number") return runtime;
  const { model: infer, release } = runtime;
  const classNames = splits.manifest.extractor.classNames;
  let detections;
  try {
    detections = await localizeVideos(infer, videos, localizerGeometry(graph), classNames, BMN_POST_PROCESSING, flags.batch ?? 8);
  } finally {
    await release();
  }
  const extractor = splits.manifest.extractor;
  out(
    `${network.name} on ${shownPath(data)} (${chosen} split, ${videos.length} videos; features of ${extractor.network}'s ${extractor.layer}; soft-NMS alpha ${BMN_POST_PROCESSING.alpha}, thresholds ${BMN_POST_PROCESSING.lowThreshold}/${BMN_POST_PROCESSING.highThreshold}, top ${BMN_POST_PROCESSING.topK}):`,
  );
  out(formatLocalizationReport(localizationReport(videos, detections)));
  if (flags.baseline) {
    out("uniform sliding windows (1/8, 1/4, 1/2 of the video at half-window steps), scored by the extractor's snippet scores:");
    out(
      formatLocalizationReport(
        localizationReport(
          videos,
          videos.map((v) => slidingWindowDetections(v, classNames)),
        ),
      ),
    );
  }
  if (flags.results) {
    writeFileAtomic(flags.results, activityNetResults(videos, detections));
    out(`wrote ${videos.length} videos' detections to ${flags.results} (ActivityNet results format)`);
  }
  const summary = skippedSummary(splits.issues);
  if (summary) out(summary);
  return 0;
}

/**
 * The model `vnet eval` runs, classifier or localizer alike: the graph exported to ONNX in memory
 * with the stored weights, in ONNX Runtime, unless `--engine tfjs` or the network does not export
 * (then its tfjs model); `wrap` makes either the task's model. Prints the runtime; exit code 1
 * after printing what is wrong.
 */
async function evaluationRuntime<T>(
  checked: CheckedSpec,
  store: WeightStore,
  options: {
    readonly engine: string | undefined;
    readonly provider: OnnxProvider | undefined;
    readonly backend: BackendChoice | undefined;
    readonly flows: readonly FlowStream[];
    readonly color: boolean;
  },
  out: (s: string) => void,
  wrap: { readonly onnx: (loaded: CheckpointOnnx) => T; readonly tfjs: (model: tf.LayersModel) => T },
): Promise<{ readonly model: T; readonly release: () => Promise<void> } | number> {
  const { network, graph } = checked;
  if (options.engine !== "tfjs") {
    const { flows, provider, color } = options;
    const loaded = await inMemoryOnnx(checked, store, { flows, provider, required: options.engine === "ort", color }, out);
    if (typeof loaded === "number") return loaded;
    if (loaded) {
      out(`runtime: ONNX Runtime (${loaded.model.provider} provider), the weights exported to ONNX in memory`);
      return { model: wrap.onnx(loaded), release: () => loaded.model.session.release() };
    }
  }
  await startBackend(options.backend, out, false, network);
  const model = trainedModel(graph, checked.result, store, out, options.color);
  if (typeof model === "number") return model;
  return {
    model: wrap.tfjs(model),
    release: async () => {
      model.dispose();
    },
  };
}
