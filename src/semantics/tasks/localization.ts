/**
 * Temporal action localization, BMN style (Lin et al. 2019, as MMAction2's `BMN` and `BMNLoss`
 * compute it): a network reads a video's snippet features as a sequence [N, T, F] and outputs,
 * per position, the probability that an action starts and that one ends there, and the
 * boundary-matching confidence map [N, D, T, 2]: for the proposal starting at t and lasting
 * d + 1 positions, a regression confidence (channel 0, trained towards its IoU with the ground
 * truth) and a classification confidence (channel 1, trained towards IoU > 0.9). Post-processing
 * (src/runtime/localize.ts) fuses them into scored segments.
 */
import type { Range } from "../../diagnostics/diagnostic.js";
import { formatShape, type Shape } from "../../ops/values.js";
import type { CheckedNetwork, Layer } from "../network.js";
import { clamp, complement, type TensorAlgebra } from "./algebra.js";
import type { TaskContract, TaskReporter } from "./contract.js";

/** Operators that only move or drop a length-1 axis, through which an output keeps its activation. */
const SHAPE_ONLY = new Set(["flatten", "frame", "dropout"]);

/** Whether a layer's output is a sigmoid's (possibly reshaped). */
function endsInSigmoid(layer: Layer | undefined, byId: ReadonlyMap<number, Layer>): boolean {
  if (!layer) return false;
  if (layer.op === "sigmoid") return true;
  return SHAPE_ONLY.has(layer.op) && endsInSigmoid(byId.get(layer.inputs[0]!), byId);
}

const ROLES = [
  { name: "start", hint: "end the start branch with `conv1d(1, kernel = 1) -> sigmoid -> flatten`" },
  { name: "end", hint: "end the end branch with `conv1d(1, kernel = 1) -> sigmoid -> flatten`" },
  { name: "confidence", hint: "end the proposal branch with `conv2d(2, kernel = 1) -> sigmoid` over the [D, T] map" },
] as const;

function checkLocalizer(network: CheckedNetwork, site: { name: Range; outputs: readonly Range[] }, report: TaskReporter): void {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const modelInputs = network.inputs.filter((i) => i.modelInput);
  const sequence = modelInputs.length === 1 && modelInputs[0]!.kind === "input" && modelInputs[0]!.shape.length === 2 ? modelInputs[0]! : undefined;
  if (!sequence) {
    const input = modelInputs[0] ?? network.inputs[0];
    const where = input ? (byId.get(input.layer)?.origin.range ?? site.name) : site.name;
    const found = modelInputs.length === 0 ? "no model input" : modelInputs.map((i) => `\`${i.name}\` ${formatShape(i.shape)}`).join(", ");
    report(
      "VN064",
      `a localizer reads one feature sequence [N, T, F]; \`${network.name}\` reads ${found}`,
      where,
      "`input features = sequence(length = 100, features = 400)` (the snippet features `vnet features` writes)",
    );
    return;
  }
  const [t] = sequence.shape as [number, number];
  if (network.outputs.length !== ROLES.length) {
    report(
      "VN063",
      `a localizer has three outputs (start [N, ${t}], end [N, ${t}], confidence [N, D, ${t}, 2]); \`${network.name}\` has ${network.outputs.length}`,
      site.outputs[0] ?? site.name,
      "`output start, end, confidence`",
    );
    return;
  }
  network.outputs.forEach((id, i) => {
    const layer = byId.get(id);
    const shape: Shape = layer?.shape ?? [];
    const role = ROLES[i]!;
    const range = site.outputs[i] ?? site.name;
    const expected = role.name === "confidence" ? `[N, D, ${t}, 2] with 1 <= D <= ${t}` : `[N, ${t}]`;
    const fits =
      role.name === "confidence"
        ? shape.length === 3 && shape[0]! >= 1 && shape[0]! <= t && shape[1] === t && shape[2] === 2
        : shape.length === 1 && shape[0] === t;
    if (!fits) {
      report("VN063", `the ${role.name} output is ${formatShape(shape)}; over a sequence of ${t} positions it must be ${expected}`, range, role.hint);
    } else if (!endsInSigmoid(layer, byId)) {
      report("VN063", `the ${role.name} output must be probabilities: BMN's losses take log(p) and log(1 - p)`, range, role.hint);
    }
  });
}

export const localization: TaskContract = {
  name: "localization",
  doc: "When actions happen in an untrimmed video: scored temporal segments from snippet features (BMN).",
  inputs: "a feature sequence `sequence(length = T, features = F)` [N, T, F]: a video's snippet features, resampled to T positions (`vnet features`)",
  outputs: [
    { name: "start", shape: "[N, T]", doc: "Probability that an action starts at each position (sigmoid)." },
    { name: "end", shape: "[N, T]", doc: "Probability that an action ends at each position (sigmoid)." },
    {
      name: "confidence",
      shape: "[N, D, T, 2]",
      doc: "Boundary-matching map: for the proposal [t, t + d + 1), its regression (channel 0) and classification (channel 1) confidence (sigmoid).",
    },
  ],
  losses: [
    {
      name: "bmn",
      doc: "BMN's loss (MMAction2 `BMNLoss`): the temporal evaluation module's weighted binary logistic loss on start and end, plus 10 x the proposal evaluation module's regression loss (IoU bands > 0.7, 0.3-0.7, 0-0.3 sampled to balance) and its weighted binary logistic loss at IoU > 0.9 on the confidence map, against the BM label map.",
    },
  ],
  metrics: [
    {
      name: "ar_an",
      doc: "Average recall at an average number of proposals per video, AN = 1..100, over tIoU 0.5:0.05:0.95, and the area under that curve (ActivityNet `eval_proposal.py`).",
    },
    {
      name: "map_tiou",
      doc: "Mean average precision at tIoU 0.5:0.05:0.95 and their average (ActivityNet `eval_detection.py`), proposals labelled by the feature extractor's snippet scores.",
    },
  ],
  datasets: [
    {
      name: "activitynet-json",
      doc: "ActivityNet-style annotations: `{database: {video: {duration_second, subset, annotations: [{segment: [s, e], label}]}}}`.",
    },
    { name: "thumos-lists", doc: "THUMOS-style per-class lists `<Class>_<subset>.txt` of `video start end` lines." },
    {
      name: "builtin:motion-untrimmed",
      doc: "Synthetic untrimmed videos with one to three motion segments between background (`vnet data synth --variant untrimmed`).",
    },
  ],
  check: checkLocalizer,
};

/** BMN's loss weights (MMAction2 `BMNLoss.forward` defaults). */
export const BMN_LOSS_WEIGHTS = { tem: 1, reg: 10, cls: 1 } as const;

/** What BMN's loss compares the outputs with: the label maps of `bmnLabels` and the sampling noise. */
export interface BmnTargets<T> {
  /** [N, T]: each position's best IoP with a ground-truth start region. */
  readonly start: T;
  /** [N, T]: the same for ends. */
  readonly end: T;
  /** [N, D, T]: each proposal's best IoU with a ground-truth segment. */
  readonly iou: T;
  /** [D, T]: 1 where the proposal lies inside the video (t + d < T). */
  readonly mask: T;
  /** [N, D, T] uniform [0, 1) draws that sample the mid-IoU (0.3-0.7) proposals of the regression loss. */
  readonly noiseMid: T;
  /** [N, D, T] uniform [0, 1) draws that sample the low-IoU (0-0.3) proposals. */
  readonly noiseLow: T;
}

export interface BmnLossTerms<T> {
  readonly total: T;
  readonly tem: T;
  readonly reg: T;
  readonly cls: T;
}

/**
 * Weighted binary logistic loss (MMAction2 `binary_logistic_regression_loss`): positives are
 * labels above `threshold`, and with r = entries / positives clamped to [1.05, 21], positives
 * weigh r / 2 and negatives r / (2 (r - 1)), so both halves count about equally.
 */
export function binaryLogisticLoss<T>(ops: TensorAlgebra<T>, score: T, label: T, threshold = 0.5, eps = 1e-5): T {
  const positive = ops.greater(label, ops.scalar(threshold));
  const entries = ops.shape(label).reduce((a, b) => a * b, 1);
  const positives = ops.maximum(ops.sum(positive), ops.scalar(1));
  const ratio = clamp(ops, ops.div(ops.scalar(entries), positives), 1.05, 21);
  const coefNegative = ops.div(ops.mul(ops.scalar(0.5), ratio), ops.sub(ratio, ops.scalar(1)));
  const coefPositive = ops.mul(ops.scalar(0.5), ratio);
  const logPositive = ops.log(ops.add(score, ops.scalar(eps)));
  const logNegative = ops.log(ops.add(complement(ops, score), ops.scalar(eps)));
  const loss = ops.add(ops.mul(ops.mul(coefPositive, positive), logPositive), ops.mul(ops.mul(coefNegative, complement(ops, positive)), logNegative));
  return ops.mul(ops.scalar(-1), ops.mean(loss));
}

/**
 * The proposal evaluation module's regression loss (MMAction2 `BMNLoss.pem_reg_loss`): squared
 * error on every proposal with IoU > 0.7, and on a random share of the 0.3-0.7 and the (0, 0.3]
 * proposals sized to match their count, halved and divided by the number of proposals weighed.
 */
export function pemRegressionLoss<T>(ops: TensorAlgebra<T>, score: T, iou: T, mask: T, noiseMid: T, noiseLow: T, high = 0.7, low = 0.3): T {
  const above = (x: number) => ops.greater(iou, ops.scalar(x));
  const highMask = above(high);
  const midMask = ops.mul(above(low), complement(ops, highMask));
  const lowMask = ops.mul(ops.mul(above(0), complement(ops, above(low))), mask);
  const highCount = ops.sum(highMask);
  const keepMid = ops.greater(ops.mul(midMask, noiseMid), ops.sub(ops.scalar(1), ops.div(highCount, ops.sum(midMask))));
  const keepLow = ops.greater(ops.mul(lowMask, noiseLow), ops.sub(ops.scalar(1), ops.div(highCount, ops.sum(lowMask))));
  const weights = ops.add(ops.add(highMask, keepMid), keepLow);
  const difference = ops.sub(ops.mul(score, weights), ops.mul(iou, weights));
  const entries = ops.shape(iou).reduce((a, b) => a * b, 1);
  const mse = ops.mean(ops.mul(difference, difference));
  return ops.div(ops.mul(ops.scalar(0.5 * entries), mse), ops.sum(weights));
}

/**
 * The proposal evaluation module's classification loss (MMAction2 `BMNLoss.pem_cls_loss`):
 * weighted binary logistic loss with positives at IoU > 0.9 and negatives the other proposals
 * inside the video, summed and divided by their number.
 */
export function pemClassificationLoss<T>(ops: TensorAlgebra<T>, score: T, iou: T, mask: T, threshold = 0.9, eps = 1e-5): T {
  const positive = ops.greater(iou, ops.scalar(threshold));
  const negative = ops.mul(complement(ops, positive), mask);
  const positives = ops.maximum(ops.sum(positive), ops.scalar(1));
  const entries = ops.add(positives, ops.sum(negative));
  const ratio = clamp(ops, ops.div(entries, positives), 1.05, 21);
  const coefNegative = ops.div(ops.mul(ops.scalar(0.5), ratio), ops.sub(ratio, ops.scalar(1)));
  const coefPositive = ops.mul(ops.scalar(0.5), ratio);
  const lossPositive = ops.mul(ops.mul(coefPositive, ops.log(ops.add(score, ops.scalar(eps)))), positive);
  const lossNegative = ops.mul(ops.mul(coefNegative, ops.log(ops.add(complement(ops, score), ops.scalar(eps)))), negative);
  return ops.div(ops.mul(ops.scalar(-1), ops.sum(ops.add(lossPositive, lossNegative))), entries);
}

/**
 * BMN's loss (MMAction2 `BMNLoss.forward`) of a localizer's outputs: start and end [N, T],
 * confidence [N, D, T, 2] (channel 0 regression, 1 classification). The IoU map is masked to
 * the proposals inside the video first.
 */
export function bmnLoss<T>(ops: TensorAlgebra<T>, start: T, end: T, confidence: T, targets: BmnTargets<T>, weights = BMN_LOSS_WEIGHTS): BmnLossTerms<T> {
  const iou = ops.mul(targets.iou, targets.mask);
  const reg = pemRegressionLoss(ops, ops.channel(confidence, 0), iou, targets.mask, targets.noiseMid, targets.noiseLow);
  const cls = pemClassificationLoss(ops, ops.channel(confidence, 1), iou, targets.mask);
  const tem = ops.add(binaryLogisticLoss(ops, start, targets.start), binaryLogisticLoss(ops, end, targets.end));
  const total = ops.add(ops.add(ops.mul(ops.scalar(weights.tem), tem), ops.mul(ops.scalar(weights.reg), reg)), ops.mul(ops.scalar(weights.cls), cls));
  return { total, tem, reg, cls };
}
