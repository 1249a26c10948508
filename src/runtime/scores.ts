/**
 * Class scores of test views, whichever runtime produced them: both kinds (logits and
 * probabilities) from a network output of either kind, as the IR says it is (src/ir/scores.ts:
 * the logits of a probability output are its log-probabilities, as the exported model's `logits`
 * output), and the protocol's averaging over a video's views. `vnet eval` and `vnet predict` (ONNX
 * Runtime or tfjs) all average here.
 */
import type { ScoreKind } from "../ir/scores.js";
import type { ViewAverage } from "../semantics/protocol.js";
import type { HostTensor } from "./onnx.js";

/** Class logits and probabilities of a batch of views, [V, K] each. */
export interface ViewScores {
  readonly logits: HostTensor;
  readonly probabilities: HostTensor;
}

/** Softmax over the last axis. */
export function softmaxRows(t: HostTensor): HostTensor {
  const k = t.shape.at(-1)!;
  const out = new Float32Array(t.data.length);
  for (let row = 0; row < t.data.length; row += k) {
    const slice = t.data.subarray(row, row + k);
    let top = -Infinity;
    for (const v of slice) top = Math.max(top, v);
    let total = 0;
    for (let i = 0; i < k; i++) total += out[row + i] = Math.exp(slice[i]! - top);
    for (let i = 0; i < k; i++) out[row + i]! /= total;
  }
  return { data: out, shape: t.shape };
}

/** Both kinds of scores from a network output of either kind. */
export function scoresFromOutput(output: HostTensor, kind: ScoreKind): ViewScores {
  if (kind === "logits") return { logits: output, probabilities: softmaxRows(output) };
  return { logits: { data: output.data.map(Math.log), shape: output.shape }, probabilities: output };
}

/** What each averaging gives, in words. */
export const AVERAGED: Readonly<Record<ViewAverage, string>> = {
  logits: "softmax of the mean logits",
  softmax: "mean probability over views",
  max: "max probability over views",
};

/**
 * One video's class probabilities from its views' scores, as the protocol averages them: the
 * softmax of the mean logits, the mean probability, or each class's largest probability.
 */
export function averageViews(scores: ViewScores, average: ViewAverage): Float32Array {
  const [views, classes] = scores.logits.shape as [number, number];
  const reduce = (t: HostTensor, combine: (a: number, b: number) => number, finish: (v: number) => number) => {
    const out = Float32Array.from(t.data.subarray(0, classes));
    for (let v = 1; v < views; v++) for (let k = 0; k < classes; k++) out[k] = combine(out[k]!, t.data[v * classes + k]!);
    return out.map(finish);
  };
  if (average === "logits")
    return softmaxRows({
      data: reduce(
        scores.logits,
        (a, b) => a + b,
        (s) => s / views,
      ),
      shape: [1, classes],
    }).data;
  if (average === "max") return reduce(scores.probabilities, Math.max, (s) => s);
  return reduce(
    scores.probabilities,
    (a, b) => a + b,
    (s) => s / views,
  );
}

/** The k best classes, best first. */
export function topClasses(scores: Float32Array, names: readonly string[] | undefined, k: number): { name: string; index: number; score: number }[] {
  return Array.from(scores, (score, index) => ({ name: names?.[index] ?? `class ${index}`, index, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}
