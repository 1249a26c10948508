/**
 * A detector's trainer (see src/runtime/trainer.ts), on the tfjs engine's optimizer (the ONNX
 * training step has classification's loss only): batches of keyframe clips with their
 * ground-truth boxes and multi-hot action labels (PySlowFast trains AVA on the ground-truth
 * boxes), the binary cross-entropy of src/semantics/tasks/detection.ts over the tfjs algebra,
 * and a validation pass reporting the loss and frame-mAP@0.5 of the proposals above the score
 * threshold against the ground truth.
 */
import * as tf from "@tensorflow/tfjs";
import type { DetectionKeyframe, DetectionSplits } from "../../data/motion-boxes.js";
import type { IrGraph } from "../../ir/graph.js";
import { sigmoidBinaryCrossEntropy } from "../../semantics/tasks/detection.js";
import type { EngineStart } from "../engines/engine.js";
import { TfjsOptimization, weightDecayTerm } from "../engines/tfjs.js";
import { TFJS_ALGEBRA } from "../tensor-algebra.js";
import type { TrainOptions } from "../train.js";
import { epochOrder, type TaskStep, type TaskTrainer, type Validation } from "../trainer.js";
import { detectBoxes, detectionReport, detectorInputs, PROPOSAL_THRESHOLD, testBoxes } from "./detect.js";

/** Whether training data are keyframes for a detector (not a video dataset, video splits or feature splits: none of their `channels`, `issues`, `manifest`). */
export function isDetectionSplits(data: object): data is DetectionSplits {
  return !("channels" in data) && !("issues" in data) && !("manifest" in data) && Array.isArray((data as DetectionSplits).train);
}

/** The ground-truth boxes of a keyframe (what training reads). */
const truthBoxes = (k: DetectionKeyframe) => k.boxes;

/** Multi-hot labels [K, classes] of the batch's ground-truth boxes, in box order. */
function labelTensor(keyframes: readonly DetectionKeyframe[], classes: number): tf.Tensor2D {
  const rows = keyframes.flatMap((k) => k.boxes);
  const labels = new Float32Array(rows.length * classes);
  rows.forEach((b, i) => b.actions.forEach((a) => (labels[i * classes + a] = 1)));
  return tf.tensor2d(labels, [rows.length, classes]);
}

/** The trainer of a detector on keyframe splits, from fresh weights or a checkpoint. */
export async function detectionTrainer(graph: IrGraph, splits: DetectionSplits, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  if (options.engine === "ort")
    throw new Error(`${graph.name} is a detector: it trains on the tfjs engine (the ONNX training step has classification's loss only)`);
  const classes = graph.classes!;
  if (splits.classNames.length !== classes)
    throw new Error(
      `${splits.name} has ${splits.classNames.length} action classes but ${graph.name} has ${classes}: set \`classes = ${splits.classNames.length}\``,
    );
  const { config } = options;
  const seed = options.seed ?? 0;
  const train = splits.train.filter((k) => k.boxes.length > 0);
  const metadata = { vnet: { network: graph.name, task: "detection", classNames: splits.classNames } };
  const engine = await TfjsOptimization.start({ graph, config, seed, start, metadata });
  const model = await engine.model();
  const decay = weightDecayTerm(model, config.weightDecay);
  const lossOf = (inputs: tf.Tensor[], labels: tf.Tensor, training: boolean) =>
    sigmoidBinaryCrossEntropy(TFJS_ALGEBRA, model.apply(inputs, { training }) as tf.Tensor, labels) as tf.Scalar;
  return {
    unit: "keyframes",
    classNames: splits.classNames,
    engine,
    reason: options.engine === "auto" ? "a detector trains on tfjs: the ONNX training step has classification's loss only" : "",
    issues: [],
    epoch(epoch) {
      const order = epochOrder(train.length, seed, epoch).map((k) => train[k]!);
      const steps = Math.ceil(order.length / config.batch);
      async function* batches(): AsyncGenerator<TaskStep> {
        for (let step = 0; step < steps; step++) {
          const keyframes = order.slice(step * config.batch, (step + 1) * config.batch);
          yield {
            size: keyframes.length,
            run: async (lr) => {
              const inputs = detectorInputs(graph, keyframes, truthBoxes);
              const labels = labelTensor(keyframes, classes);
              try {
                return await engine.minimize(() => ({ loss: decay(lossOf(inputs, labels, true)) }), lr);
              } finally {
                tf.dispose([...inputs, labels]);
              }
            },
          };
        }
      }
      return { steps, batches: batches() };
    },
    async validate(): Promise<Validation> {
      const val = splits.val.filter((k) => k.boxes.length > 0);
      if (val.length === 0) return { loss: NaN };
      let loss = 0;
      for (let at = 0; at < val.length; at += config.batch) {
        const keyframes = val.slice(at, at + config.batch);
        const inputs = detectorInputs(graph, keyframes, truthBoxes);
        const labels = labelTensor(keyframes, classes);
        loss += tf.tidy(() => lossOf(inputs, labels, false).dataSync()[0]!) * keyframes.length;
        tf.dispose([...inputs, labels]);
      }
      const boxesOf = testBoxes(PROPOSAL_THRESHOLD);
      const report = detectionReport(val, detectBoxes(model, graph, val, boxesOf, config.batch), boxesOf, classes);
      return { loss: loss / val.length, metrics: { "frame-mAP": report.map } };
    },
    close: async () => {},
  };
}
