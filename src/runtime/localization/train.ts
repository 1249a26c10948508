/**
 * A localizer's trainer (see src/runtime/trainer.ts), on the tfjs engine's optimizer
 * (`TfjsOptimization`: the ONNX training step has classification's loss only): batches of whole
 * videos' feature sequences
 * with BMN's targets (the label maps of labels.ts, from each video's actions mapped onto the span
 * its features cover), BMN's loss over the tfjs algebra (src/semantics/tasks/localization.ts) with
 * its sampling noise drawn from the seed, epoch and step (so a resumed run draws the same), and a
 * validation pass that reports the loss and AR@10, AR@100 and the AUC of BMN's post-processed
 * proposals against the validation videos' actions.
 */
import * as tf from "@tensorflow/tfjs";
import type { FeatureSplits, FeatureVideo } from "../../data/features.js";
import { DataError } from "../../data/issues.js";
import { seededRandom } from "../../data/motion.js";
import type { IrGraph } from "../../ir/graph.js";
import { bmnLoss, type BmnTargets } from "../../semantics/tasks/localization.js";
import { TFJS_ALGEBRA } from "../tensor-algebra.js";
import type { EngineStart } from "../engines/engine.js";
import { TfjsOptimization, weightDecayTerm } from "../engines/tfjs.js";
import type { TrainOptions } from "../train.js";
import { epochOrder, type TaskStep, type TaskTrainer, type Validation } from "../trainer.js";
import { bmMask, bmnLabels, toFraction, type BmnLabels } from "./labels.js";
import { averageRecall } from "./metrics.js";
import { localizeSegments } from "./proposals.js";
import type { ScoredSegment, Segment } from "./segments.js";

/** A localizer's sequence length T, feature width F and proposal durations D. */
export interface LocalizerGeometry {
  readonly positions: number;
  readonly features: number;
  readonly durations: number;
}

/** T, F and D of a localizer's graph (its sequence input and its confidence map output). */
export function localizerGeometry(graph: IrGraph): LocalizerGeometry {
  const input = graph.inputs[0]!;
  const map = graph.nodes.find((n) => n.id === graph.outputs[2])!;
  return { positions: input.shape[0]!, features: input.shape[1]!, durations: map.shape[0]! };
}

/** Refuses feature splits a localizer cannot read (VN123): other widths or lengths than its input's. */
export function checkFeatureFit(graph: IrGraph, splits: FeatureSplits): void {
  const { positions, features } = localizerGeometry(graph);
  const extractor = splits.manifest.extractor;
  if (extractor.features !== features) {
    throw new DataError(
      "VN123",
      splits.dir,
      `the features are ${extractor.features} wide (${extractor.network}'s layer ${extractor.layer}) but ${graph.name} reads ${features} features per position`,
    );
  }
  const other = [...splits.train, ...splits.val, ...splits.test].find((v) => v.positions !== positions);
  if (other) {
    throw new DataError(
      "VN123",
      splits.dir,
      `${other.id}'s features have ${other.positions} positions but ${graph.name} reads sequences of ${positions}; extract them with \`vnet features ... --scale ${positions}\``,
    );
  }
}

/** BMN's targets of one video. */
function labelsOf(video: FeatureVideo, geometry: LocalizerGeometry): BmnLabels {
  return bmnLabels(
    video.segments.map((s) => toFraction(s, video.span)),
    geometry.positions,
    geometry.durations,
  );
}

function stack(videos: readonly FeatureVideo[], pick: (v: FeatureVideo) => Float32Array): Float32Array {
  const size = pick(videos[0]!).length;
  const out = new Float32Array(videos.length * size);
  videos.forEach((v, i) => out.set(pick(v), i * size));
  return out;
}

function noise(random: () => number, size: number): Float32Array {
  return Float32Array.from({ length: size }, random);
}

/** A batch's tensors: the features and BMN's targets. */
function batchTensors(
  videos: readonly FeatureVideo[],
  labels: ReadonlyMap<string, BmnLabels>,
  geometry: LocalizerGeometry,
  mask: tf.Tensor,
  random: () => number,
): { input: tf.Tensor; targets: BmnTargets<tf.Tensor> } {
  const { positions: T, features: F, durations: D } = geometry;
  const n = videos.length;
  const of = (key: keyof BmnLabels) => stack(videos, (v) => labels.get(v.id)![key]);
  return {
    input: tf.tensor3d(
      stack(videos, (v) => v.features),
      [n, T, F],
    ),
    targets: {
      start: tf.tensor2d(of("start"), [n, T]),
      end: tf.tensor2d(of("end"), [n, T]),
      iou: tf.tensor3d(of("iou"), [n, D, T]),
      mask,
      noiseMid: tf.tensor3d(noise(random, n * D * T), [n, D, T]),
      noiseLow: tf.tensor3d(noise(random, n * D * T), [n, D, T]),
    },
  };
}

/** One video's outputs as post-processing reads them, from the batch outputs at row `i`. */
function videoOutputs(outputs: readonly Float32Array[], i: number, geometry: LocalizerGeometry) {
  const { positions: T, durations: D } = geometry;
  return {
    start: outputs[0]!.subarray(i * T, (i + 1) * T),
    end: outputs[1]!.subarray(i * T, (i + 1) * T),
    confidence: outputs[2]!.subarray(i * D * T * 2, (i + 1) * D * T * 2),
    durations: D,
  };
}

/** Runs a localizer on videos in batches: each video's outputs (inference mode). */
export async function runLocalizer(
  model: tf.LayersModel,
  videos: readonly FeatureVideo[],
  geometry: LocalizerGeometry,
  batch = 8,
): Promise<{ start: Float32Array; end: Float32Array; confidence: Float32Array; durations: number }[]> {
  const results: { start: Float32Array; end: Float32Array; confidence: Float32Array; durations: number }[] = [];
  for (let at = 0; at < videos.length; at += batch) {
    const part = videos.slice(at, at + batch);
    const outputs = tf.tidy(
      () =>
        model.predict(
          tf.tensor3d(
            stack(part, (v) => v.features),
            [part.length, geometry.positions, geometry.features],
          ),
        ) as tf.Tensor[],
    );
    const data = outputs.map((o) => o.dataSync() as Float32Array);
    tf.dispose(outputs);
    part.forEach((_, i) => {
      const o = videoOutputs(data, i, geometry);
      results.push({ start: o.start.slice(), end: o.end.slice(), confidence: o.confidence.slice(), durations: o.durations });
    });
  }
  return results;
}

/** AR@10, AR@100 and the AUC of a localizer's proposals for videos with annotated actions. */
export function proposalRecall(videos: readonly FeatureVideo[], proposals: readonly (readonly ScoredSegment[])[]): Record<string, number> {
  const truth = new Map<string, readonly Segment[]>(videos.filter((v) => v.segments.length > 0).map((v) => [v.id, v.segments]));
  if (truth.size === 0) return {};
  const curve = averageRecall(truth, new Map(videos.map((v, i) => [v.id, proposals[i]!])), { maxAverageProposals: 100 });
  return { "AR@10": curve.averageRecall[9]!, "AR@100": curve.averageRecall[99]!, AUC: curve.auc };
}

/** The trainer of a localizer on feature splits, from fresh weights or a checkpoint. */
export async function localizationTrainer(graph: IrGraph, splits: FeatureSplits, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  checkFeatureFit(graph, splits);
  if (options.engine === "ort")
    throw new Error(`${graph.name} is a localizer: it trains on the tfjs engine (the ONNX training step has classification's loss only)`);
  const { config } = options;
  const seed = options.seed ?? 0;
  const geometry = localizerGeometry(graph);
  const train = splits.train.filter((v) => v.segments.length > 0);
  const labels = new Map([...train, ...splits.val].map((v) => [v.id, labelsOf(v, geometry)]));
  const extractor = splits.manifest.extractor;
  // What localizing with the model needs: the action classes and how its features were extracted.
  const metadata = {
    vnet: {
      network: graph.name,
      task: "localization",
      classNames: splits.classNames,
      features: {
        spec: extractor.spec,
        network: extractor.network,
        weights: extractor.weights,
        layer: extractor.layer,
        length: extractor.length,
        step: extractor.step,
        scale: extractor.scale,
      },
    },
  };
  const engine = await TfjsOptimization.start({ graph, config, seed, start, metadata });
  const model = await engine.model();
  const mask = tf.tensor2d(bmMask(geometry.positions, geometry.durations), [geometry.durations, geometry.positions]);
  const decay = weightDecayTerm(model, config.weightDecay);
  const lossOf = (input: tf.Tensor, targets: BmnTargets<tf.Tensor>, training: boolean) => {
    const [start, end, confidence] = model.apply(input, { training }) as tf.Tensor[];
    return bmnLoss(TFJS_ALGEBRA, start!, end!, confidence!, targets).total as tf.Scalar;
  };
  const free = (input: tf.Tensor, targets: BmnTargets<tf.Tensor>) =>
    tf.dispose([input, targets.start, targets.end, targets.iou, targets.noiseMid, targets.noiseLow]);
  return {
    unit: "videos",
    classNames: splits.classNames,
    engine,
    reason: options.engine === "auto" ? "a localizer trains on tfjs: the ONNX training step has classification's loss only" : "",
    issues: [],
    epoch(epoch) {
      const order = epochOrder(train.length, seed, epoch).map((k) => train[k]!);
      const steps = Math.ceil(order.length / config.batch);
      async function* batches(): AsyncGenerator<TaskStep> {
        for (let step = 0; step < steps; step++) {
          const videos = order.slice(step * config.batch, (step + 1) * config.batch);
          const random = seededRandom((seed * 1000003 + epoch * 7919 + step * 104729 + 41) >>> 0);
          yield {
            size: videos.length,
            run: async (lr) => {
              const { input, targets } = batchTensors(videos, labels, geometry, mask, random);
              try {
                return await engine.minimize(() => ({ loss: decay(lossOf(input, targets, true)) }), lr);
              } finally {
                free(input, targets);
              }
            },
          };
        }
      }
      return { steps, batches: batches() };
    },
    async validate(): Promise<Validation> {
      const val = splits.val.filter((v) => v.segments.length > 0);
      if (val.length === 0) return { loss: NaN };
      // The same noise every epoch, so validation losses compare.
      const random = seededRandom((seed * 1000003 + 0x5eed) >>> 0);
      let loss = 0;
      for (let at = 0; at < val.length; at += config.batch) {
        const videos = val.slice(at, at + config.batch);
        const { input, targets } = batchTensors(videos, labels, geometry, mask, random);
        loss += tf.tidy(() => lossOf(input, targets, false).dataSync()[0]!) * videos.length;
        free(input, targets);
      }
      const outputs = await runLocalizer(model, val, geometry, config.batch);
      const proposals = outputs.map((o, i) => localizeSegments(o, val[i]!.span));
      return { loss: loss / val.length, metrics: proposalRecall(val, proposals) };
    },
    close: async () => mask.dispose(),
  };
}
