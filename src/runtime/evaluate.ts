/**
 * Evaluation of a trained model on a split: top-1, top-5, per-class accuracy and the confusion
 * matrix, with the spec's test-time view averaging (logits, softmax or max over views).
 */
import * as tf from "@tensorflow/tfjs";
import type { ClipSet, VideoDataset } from "../data/motion.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { computeModelInputs } from "./streams.js";

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

/**
 * Class scores of every clip of a split. A builtin dataset's videos are exactly one input clip
 * long and at the input's size, so each video has a single view; `average` still decides whether
 * scores are logits or probabilities.
 */
export async function predictScores(model: tf.LayersModel, network: CheckedNetwork, data: VideoDataset, set: ClipSet, batch: number): Promise<Float32Array> {
  const clipSize = data.frames * data.height * data.width * data.channels;
  const classes = data.classNames.length;
  const scores = new Float32Array(set.count * classes);
  for (let start = 0; start < set.count; start += batch) {
    const n = Math.min(batch, set.count - start);
    const result = tf.tidy(() => {
      const clips = tf.tensor(set.clips.subarray(start * clipSize, (start + n) * clipSize), [n, data.frames, data.height, data.width, data.channels]);
      const inputs = computeModelInputs(network, clips);
      return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
    });
    scores.set(await result.data(), start * classes);
    result.dispose();
  }
  return scores;
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
  const lines = [`top-1 ${pct(report.top1)}  top-5 ${pct(report.top5)}  (${report.count} videos, ${report.views} view${report.views === 1 ? "" : "s"} each, ${report.average} averaging)`, "", "per class:"];
  const width = Math.max(...report.perClass.map((c) => c.name.length), 4);
  for (const c of report.perClass) lines.push(`  ${c.name.padEnd(width)}  ${pct(c.accuracy).padStart(6)}  (${c.count})`);
  lines.push("", "confusion (rows: true class, columns: predicted):");
  const cell = Math.max(4, ...report.confusion.flat().map((v) => String(v).length + 1));
  lines.push(`  ${"".padEnd(width)}  ${report.perClass.map((_, k) => String(k).padStart(cell)).join("")}`);
  report.confusion.forEach((row, k) => lines.push(`  ${`${k} ${report.perClass[k]!.name}`.padEnd(width + 2).slice(0, width + 2)}${row.map((v) => String(v).padStart(cell)).join("")}`));
  return lines.join("\n");
}
