/**
 * Evaluation of a trained model on a split: top-1, top-5, per-class accuracy and the confusion
 * matrix, with the spec's test protocol: every video is cut into clips x crops views
 * (src/data/sampling.ts) and the views' predictions are averaged as logits, as softmax
 * probabilities, or by their maximum probability.
 */
import * as tf from "@tensorflow/tfjs";
import type { VideoItem } from "../data/dataset.js";
import type { FlowStream } from "../data/flow.js";
import type { ViewLoader } from "../data/loader.js";
import { testPlans, type ClipPlan } from "../data/sampling.js";
import { concatFloat32 } from "../data/views.js";
import type { IrGraph } from "../ir/graph.js";
import { outputScores } from "../ir/scores.js";
import { viewsPerVideo, type SamplingProtocol } from "../semantics/protocol.js";
import { averageViews, scoresFromOutput } from "./scores.js";
import { graphFeeds } from "./streams.js";
import type { ViewScorer } from "./engines/engine.js";

export interface EvaluationReport {
  readonly count: number;
  readonly top1: number;
  readonly top5: number;
  readonly perClass: readonly { readonly name: string; readonly accuracy: number; readonly count: number }[];
  /** confusion[true][predicted]. */
  readonly confusion: readonly (readonly number[])[];
  /** Views averaged per video, and how. */
  readonly views: number;
  readonly average: string;
}

/** How the data of a split is read: the loader and what it needs of the network. */
export interface ViewReading {
  readonly loader: ViewLoader;
  readonly protocol: SamplingProtocol;
  readonly flows: readonly FlowStream[];
  /** Views per forward pass (at least one video's clip). */
  readonly batch: number;
  /** Called once per video that fails to load; it is left out. */
  readonly onFailure: (item: VideoItem, error: Error) => void;
}

/** The tfjs model's outputs for views (inference mode), as a training engine scores them. */
export function tfjsScorer(model: tf.LayersModel, graph: IrGraph, reading: Pick<ViewReading, "flows">): ViewScorer {
  return async (views) => {
    const output = tf.tidy(() => {
      const inputs = graphFeeds(graph, views, reading.flows);
      return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
    });
    const values = (await output.data()) as Float32Array;
    const classes = output.shape[1]!;
    output.dispose();
    return { values, classes };
  };
}

/**
 * The model's raw outputs for every view of every video, [views, classes] per video in plan
 * order (clip-major, then crops), or undefined for a video that did not load. The model is a
 * tfjs model or any scorer of views (a training engine's).
 */
export async function videoOutputs(
  model: tf.LayersModel | ViewScorer,
  graph: IrGraph,
  items: readonly VideoItem[],
  plansOf: (item: VideoItem) => ClipPlan[],
  reading: ViewReading,
): Promise<(Float32Array | undefined)[]> {
  const score = typeof model === "function" ? model : tfjsScorer(model, graph, reading);
  const tasks = items.flatMap((item, index) => plansOf(item).map((plan) => ({ source: item.source, plan, index })));
  const parts: Float32Array[][] = items.map(() => []);
  const failed = new Set<number>();
  const perTask = tasks.reduce((most, t) => Math.max(most, t.plan.crops.length), 1);
  for await (const batch of reading.loader.batches(tasks, Math.max(1, Math.floor(reading.batch / perTask)), (task, error) => {
    if (!failed.has(task.index)) reading.onFailure(items[task.index]!, error);
    failed.add(task.index);
  })) {
    const { values, classes } = await score(batch.views);
    let offset = 0;
    batch.tasks.forEach((task, k) => {
      const n = batch.views[k]!.views * classes;
      parts[task.index]!.push(values.slice(offset, offset + n));
      offset += n;
    });
  }
  return parts.map((chunks, i) => (failed.has(i) || chunks.length === 0 ? undefined : concatFloat32(chunks)));
}

/**
 * Class scores of every video with the spec's test protocol (its views' outputs averaged as the
 * protocol says, of the kind the IR says the output is), with the videos' labels; videos that fail
 * to load are left out. The model is a tfjs model or a scorer of views (ONNX Runtime's).
 */
export async function predictVideos(
  model: tf.LayersModel | ViewScorer,
  graph: IrGraph,
  items: readonly VideoItem[],
  reading: ViewReading,
): Promise<{ scores: Float32Array; labels: Int32Array; videos: VideoItem[]; views: number }> {
  const { protocol } = reading;
  const outputs = await videoOutputs(model, graph, items, (item) => testPlans(protocol, item.source.meta), reading);
  const kind = outputScores(graph).kind;
  const classes = typeof model === "function" ? graph.classes! : model.outputs[0]!.shape[1]!;
  const videos = items.filter((_, i) => outputs[i] !== undefined);
  const scores = new Float32Array(videos.length * classes);
  outputs
    .filter((o): o is Float32Array => o !== undefined)
    .forEach((o, i) => scores.set(averageViews(scoresFromOutput({ data: o, shape: [o.length / classes, classes] }, kind), protocol.test.average), i * classes));
  return { scores, labels: Int32Array.from(videos, (v) => v.label), videos, views: viewsPerVideo(protocol) };
}

/** Accuracy figures and confusion matrix from class scores (higher = more likely). */
export function scoreReport(scores: Float32Array, labels: Int32Array, classNames: readonly string[], views = 1, average = "softmax"): EvaluationReport {
  const classes = classNames.length;
  const count = labels.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < count; i++) {
    const row = Array.from(scores.subarray(i * classes, (i + 1) * classes));
    const ranked = row.map((s, k) => [s, k] as const).sort((a, b) => b[0] - a[0]);
    const label = labels[i]!;
    const predicted = ranked[0]![1];
    confusion[label]![predicted]!++;
    if (predicted === label) top1++;
    if (ranked.slice(0, 5).some(([, k]) => k === label)) top5++;
  }
  const perClass = classNames.map((name, k) => {
    const total = confusion[k]!.reduce((a, b) => a + b, 0);
    return { name, accuracy: total ? confusion[k]![k]! / total : 0, count: total };
  });
  return { count, top1: top1 / count, top5: top5 / count, perClass, confusion, views, average };
}

/** The report as text: headline figures, per-class accuracy, confusion matrix (rows = true class). */
export function formatReport(report: EvaluationReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `top-1 ${pct(report.top1)}  top-5 ${pct(report.top5)}  (${report.count} videos, ${report.views} view${report.views === 1 ? "" : "s"} each, ${report.average} averaging)`,
    "",
    "per class:",
  ];
  const width = Math.max(...report.perClass.map((c) => c.name.length), 4);
  for (const c of report.perClass) lines.push(`  ${c.name.padEnd(width)}  ${pct(c.accuracy).padStart(6)}  (${c.count})`);
  lines.push("", "confusion (rows: true class, columns: predicted):");
  const cell = Math.max(4, ...report.confusion.flat().map((v) => String(v).length + 1));
  lines.push(`  ${"".padEnd(width)}  ${report.perClass.map((_, k) => String(k).padStart(cell)).join("")}`);
  report.confusion.forEach((row, k) =>
    lines.push(`  ${`${k} ${report.perClass[k]!.name}`.padEnd(width + 2).slice(0, width + 2)}${row.map((v) => String(v).padStart(cell)).join("")}`),
  );
  return lines.join("\n");
}
