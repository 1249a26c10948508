/**
 * A detector's trainer (`targetedTrainer` of src/runtime/trainer.ts, on either engine): batches
 * of keyframe clips with their ground-truth boxes and multi-hot action labels (PySlowFast trains
 * AVA on the ground-truth boxes) for the binary cross-entropy of
 * src/semantics/tasks/detection.ts, and validation figures: frame-mAP@0.5 of the proposals above
 * the score threshold against the ground truth.
 */
import type { DetectionKeyframe, DetectionSplits } from "../../data/motion-boxes.js";
import { trainKeyframeView } from "../../data/views.js";
import type { IrGraph } from "../../ir/graph.js";
import type { EngineStart, TaskBatch } from "../engines/engine.js";
import type { HostTensor } from "../onnx.js";
import type { TrainOptions } from "../train.js";
import { targetedTrainer, type TaskTrainer } from "../trainer.js";
import { detectionReport, detectorFeeds, inferenceDetector, PROPOSAL_THRESHOLD, scoreBoxes, testBoxes } from "./detect.js";

/** Whether training data are keyframes for a detector (not a video dataset, video splits or feature splits: none of their `channels`, `issues`, `manifest`). */
export function isDetectionSplits(data: object): data is DetectionSplits {
  return !("channels" in data) && !("issues" in data) && !("manifest" in data) && Array.isArray((data as DetectionSplits).train);
}

/** The ground-truth boxes of a keyframe (what training reads). */
const truthBoxes = (k: DetectionKeyframe) => k.boxes;

/** Multi-hot labels [K, classes] of the keyframes' ground-truth boxes, in box order. */
function labelRows(keyframes: readonly DetectionKeyframe[], classes: number): HostTensor {
  const rows = keyframes.flatMap((k) => k.boxes);
  const labels = new Float32Array(rows.length * classes);
  rows.forEach((b, i) => b.actions.forEach((a) => (labels[i * classes + a] = 1)));
  return { data: labels, shape: [rows.length, classes] };
}

/** A batch: the keyframes' clips and ground-truth boxes (the model's inputs) and the boxes' labels. */
function trainingBatch(graph: IrGraph, keyframes: readonly DetectionKeyframe[], classes: number): TaskBatch {
  return { inputs: detectorFeeds(graph, keyframes, truthBoxes), targets: { labels: labelRows(keyframes, classes) } };
}

/** Training keyframes through the spec's spatial augmentation (`trainKeyframeView`), drawn in order from the step's generator. */
async function augmented(graph: IrGraph, keyframes: readonly DetectionKeyframe[], random: () => number): Promise<DetectionKeyframe[]> {
  if (!graph.protocol) return [...keyframes];
  const out: DetectionKeyframe[] = [];
  for (const k of keyframes) out.push(await trainKeyframeView(graph.protocol, k, random));
  return out;
}

/** The trainer of a detector on keyframe splits, from fresh weights or a checkpoint (see `targetedTrainer`). */
export async function detectionTrainer(graph: IrGraph, splits: DetectionSplits, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  const classes = graph.classes!;
  if (splits.classNames.length !== classes)
    throw new Error(
      `${splits.name} has ${splits.classNames.length} action classes but ${graph.name} has ${classes}: set \`classes = ${splits.classNames.length}\``,
    );
  const boxesOf = testBoxes(PROPOSAL_THRESHOLD);
  const train = splits.train.filter((k) => k.boxes.length > 0);
  const training = new Set(train);
  return targetedTrainer(graph, start, options, {
    unit: "keyframes",
    classNames: splits.classNames,
    metadata: { vnet: { network: graph.name, task: "detection", classNames: splits.classNames } },
    train,
    val: splits.val.filter((k) => k.boxes.length > 0),
    // Training keyframes are augmented; validation's are read as they are.
    batchOf: async (keyframes, random) =>
      trainingBatch(graph, keyframes.some((k) => training.has(k)) ? await augmented(graph, keyframes, random) : keyframes, classes),
    metrics: async (infer, val) => ({
      "frame-mAP": detectionReport(val, await scoreBoxes(inferenceDetector(graph, infer, graph.name), val, boxesOf, options.config.batch), boxesOf, classes)
        .map,
    }),
  });
}
