/**
 * `vnet train` and `vnet eval` of a detector (task = "detection"): keyframe splits from
 * builtin:motion-boxes or an AVA-format folder (src/data/ava.ts), training on the ground-truth
 * boxes, frame-mAP@0.5 of the proposals above the score threshold against the ground truth.
 */
import { isAvaFolder, loadAvaFolder } from "../data/ava-folder.js";
import { isMotionBoxes, motionBoxesDataset, type DetectionSplits } from "../data/motion-boxes.js";
import { detectBoxes, detectionReport, detectorGeometry, formatDetectionReport, PROPOSAL_THRESHOLD, testBoxes } from "../runtime/detection/detect.js";
import { trainNetwork, trainingConfig } from "../runtime/train.js";
import type { IrGraph } from "../ir/graph.js";
import { UsageError } from "./args.js";
import {
  describeOptimisation,
  readWeightsFlag,
  refuseClassifierOnlyFlags,
  stoppedTraining,
  trainedModel,
  trainingReports,
  wroteRun,
  type TrainingIo,
  type TrainingRun,
} from "./run-util.js";
import type { CheckedSpec } from "./util.js";
import { shownPath } from "./util.js";

/** A detector's keyframes: builtin:motion-boxes at its clip size, or an AVA-format folder. */
export async function loadDetectionSplits(
  data: string,
  graph: IrGraph,
  options: { seed: number; trainClips?: number; valClips?: number; cacheDir?: string },
): Promise<DetectionSplits> {
  const { frames, height, width } = detectorGeometry(graph);
  if (isMotionBoxes(data)) {
    if (height !== width) throw new UsageError(`builtin:motion-boxes has square clips; ${graph.name} reads ${height}x${width}`);
    return motionBoxesDataset({
      classes: graph.classes,
      frames,
      size: width,
      seed: options.seed,
      ...(options.trainClips ? { trainClips: options.trainClips } : {}),
      ...(options.valClips ? { valClips: options.valClips } : {}),
    });
  }
  if (!isAvaFolder(data))
    throw new UsageError(
      `--data ${data}: a detector reads builtin:motion-boxes or a folder in AVA's formats (label_map.pbtxt, train.csv, val.csv, *_proposals.csv, videos/); \`vnet data synth --variant boxes\` writes one`,
    );
  return loadAvaFolder(data, { frames, height, width }, options.cacheDir);
}

/** `vnet train` of a detector. */
export async function trainDetector(
  run: TrainingRun,
  flags: {
    readonly network: string | undefined;
    readonly resume: boolean;
    readonly init: string | undefined;
    readonly engine: string | undefined;
    readonly trainClips: number | undefined;
    readonly valClips: number | undefined;
  },
  io: TrainingIo,
): Promise<number> {
  const { spec, network, graph, data, runDir, seed, overrides } = run;
  const { out } = io;
  refuseClassifierOnlyFlags(network, "detector", flags);
  const splits = await loadDetectionSplits(data, graph, {
    seed,
    ...(flags.trainClips ? { trainClips: flags.trainClips } : {}),
    ...(flags.valClips ? { valClips: flags.valClips } : {}),
  });
  if (splits.classNames.length !== network.classes)
    throw new UsageError(
      `${shownPath(data)} has ${splits.classNames.length} actions but ${network.name} has ${network.classes} classes: set \`classes = ${splits.classNames.length}\``,
    );
  const config = trainingConfig(network, overrides);
  const boxes = splits.train.reduce((n, k) => n + k.boxes.length, 0);
  out(
    `training ${network.name} on ${shownPath(data)}: ${splits.train.length} training keyframes (${boxes} ground-truth boxes) and ${splits.val.length} validation keyframes, clips of [${splits.frames}, ${splits.height}, ${splits.width}, 3], ${splits.classNames.length} actions`,
  );
  out(describeOptimisation(config));
  const result = await trainNetwork(graph, splits, {
    config,
    runDir,
    seed,
    resume: flags.resume,
    ...trainingReports(io),
  });
  result.model.dispose();
  const stopped = stoppedTraining(result, io.interrupt, io.err, { spec, data, runDir, network: flags.network });
  if (stopped !== undefined) return stopped;
  const last = result.history[result.history.length - 1];
  const map = last?.valMetrics?.["frame-mAP"];
  if (map !== undefined) out(`validation frame-mAP@0.5 ${(100 * map).toFixed(1)}% after ${last!.epoch} epochs (proposals scoring >= ${PROPOSAL_THRESHOLD})`);
  out(wroteRun(runDir, false));
  return 0;
}

/** `vnet eval` of a detector: frame-mAP@0.5 and per-class AP on a split. */
export async function evalDetector(
  checked: CheckedSpec,
  weights: string,
  data: string,
  flags: { readonly split: string | undefined; readonly seed: number | undefined; readonly valClips: number | undefined; readonly batch: number | undefined },
  out: (s: string) => void,
  color: boolean,
): Promise<number> {
  const { network, graph } = checked;
  if (flags.split !== undefined && flags.split !== "val" && flags.split !== "train")
    throw new UsageError(`a detection dataset has train and val splits, not ${flags.split}`);
  const splits = await loadDetectionSplits(data, graph, { seed: flags.seed ?? 0, trainClips: 1, ...(flags.valClips ? { valClips: flags.valClips } : {}) });
  const split = flags.split === "train" ? "train" : "val";
  const keyframes = splits[split];
  const model = trainedModel(graph, checked.result, await readWeightsFlag(weights), out, color);
  if (typeof model === "number") return model;
  const boxesOf = testBoxes(PROPOSAL_THRESHOLD);
  try {
    const scores = detectBoxes(model, graph, keyframes, boxesOf, flags.batch ?? 8);
    const report = detectionReport(keyframes, scores, boxesOf, network.classes!);
    const proposals = keyframes.reduce((n, k) => n + boxesOf(k).length, 0);
    out(`${network.name} on ${shownPath(data)} (${split} split: ${keyframes.length} keyframes, ${proposals} proposals scoring >= ${PROPOSAL_THRESHOLD}):`);
    out(formatDetectionReport(report, splits.classNames, keyframes.length));
  } finally {
    model.dispose();
  }
  return 0;
}
