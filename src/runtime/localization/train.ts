/**
 * A localizer's trainer (`targetedTrainer` of src/runtime/trainer.ts, on either engine): batches
 * of whole videos' feature sequences with BMN's targets (the label maps of labels.ts, from each
 * video's actions mapped onto the span its features cover) for BMN's loss
 * (src/semantics/tasks/localization.ts), its sampling noise drawn from the step's generator (so a
 * resumed run draws the same), and validation figures AR@10, AR@100 and the AUC of BMN's
 * post-processed proposals against the validation videos' actions.
 */
import type { FeatureSplits, FeatureVideo } from "../../data/features.js";
import { DataError } from "../../data/issues.js";
import type { IrGraph } from "../../ir/graph.js";
import type { BmnTargets } from "../../semantics/tasks/localization.js";
import type { EngineStart, TaskBatch, TaskInference } from "../engines/engine.js";
import type { HostTensor } from "../onnx.js";
import type { TrainOptions } from "../train.js";
import { targetedTrainer, type TaskTrainer } from "../trainer.js";
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

/** A batch: the features [N, T, F] and BMN's targets (the label maps, the mask, sampling noise from `random`). */
function localizerBatch(videos: readonly FeatureVideo[], labels: ReadonlyMap<string, BmnLabels>, geometry: LocalizerGeometry, random: () => number): TaskBatch {
  const { positions: T, features: F, durations: D } = geometry;
  const n = videos.length;
  const of = (key: keyof BmnLabels) => stack(videos, (v) => labels.get(v.id)![key]);
  const targets: BmnTargets<HostTensor> = {
    start: { data: of("start"), shape: [n, T] },
    end: { data: of("end"), shape: [n, T] },
    iou: { data: of("iou"), shape: [n, D, T] },
    mask: { data: bmMask(T, D), shape: [D, T] },
    noiseMid: { data: noise(random, n * D * T), shape: [n, D, T] },
    noiseLow: { data: noise(random, n * D * T), shape: [n, D, T] },
  };
  return { inputs: [{ data: stack(videos, (v) => v.features), shape: [n, T, F] }], targets: { ...targets } };
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

/** Runs a localizer (a TaskInference of either runtime) on videos in batches: each video's outputs (inference mode). */
export async function runLocalizer(
  infer: TaskInference,
  videos: readonly FeatureVideo[],
  geometry: LocalizerGeometry,
  batch = 8,
): Promise<{ start: Float32Array; end: Float32Array; confidence: Float32Array; durations: number }[]> {
  const results: { start: Float32Array; end: Float32Array; confidence: Float32Array; durations: number }[] = [];
  for (let at = 0; at < videos.length; at += batch) {
    const part = videos.slice(at, at + batch);
    const outputs = await infer([{ data: stack(part, (v) => v.features), shape: [part.length, geometry.positions, geometry.features] }]);
    const data = outputs.map((o) => o.data);
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

/** The trainer of a localizer on feature splits, from fresh weights or a checkpoint (see `targetedTrainer`). */
export async function localizationTrainer(graph: IrGraph, splits: FeatureSplits, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  checkFeatureFit(graph, splits);
  const geometry = localizerGeometry(graph);
  const train = splits.train.filter((v) => v.segments.length > 0);
  const val = splits.val.filter((v) => v.segments.length > 0);
  const labels = new Map([...train, ...val].map((v) => [v.id, labelsOf(v, geometry)]));
  const extractor = splits.manifest.extractor;
  return targetedTrainer(graph, start, options, {
    unit: "videos",
    classNames: splits.classNames,
    // What localizing with the model needs: the action classes and how its features were extracted.
    metadata: {
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
    },
    train,
    val,
    batchOf: (videos, random) => localizerBatch(videos, labels, geometry, random),
    async metrics(infer, videos) {
      const outputs = await runLocalizer(infer, videos, geometry, options.config.batch);
      return proposalRecall(
        videos,
        outputs.map((o, i) => localizeSegments(o, videos[i]!.span)),
      );
    },
  });
}
