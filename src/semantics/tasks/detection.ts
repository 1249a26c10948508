/**
 * Spatio-temporal action detection, AVA style (Gu et al. 2018; PySlowFast's `ResNetRoIHead`,
 * MMAction2's `BBoxHeadAVA`): for each person box in a keyframe, which actions it performs
 * (multi-label). The network reads a clip centred on the keyframe and the boxes `boxes()`
 * [K, 5] (batch index, x1, y1, x2, y2 in the clip's pixels), pools per-box features with
 * `roi_align`, and outputs per-box class logits [K, classes]. The task applies the sigmoid: the
 * classes are independent (a person can stand and talk), trained with binary cross-entropy as
 * PySlowFast's `BCELoss` over the head's sigmoid; `vnet eval` reports frame-mAP at IoU 0.5 (the
 * AVA evaluation's per-class PASCAL VOC average precision over keyframes).
 */
import { formatShape } from "../../ops/values.js";
import type { CheckedNetwork } from "../network.js";
import { isBoxesInput, layerRows } from "../rows.js";
import type { TensorAlgebra } from "./algebra.js";
import type { TaskContract, TaskReporter, TaskSite } from "./contract.js";

function checkDetector(network: CheckedNetwork, site: TaskSite, report: TaskReporter): void {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const modelInputs = network.inputs.filter((i) => i.modelInput);
  const boxes = modelInputs.filter((i) => isBoxesInput(byId.get(i.layer)!));
  const clips = modelInputs.filter((i) => !isBoxesInput(byId.get(i.layer)!));
  if (boxes.length !== 1 || clips.length === 0) {
    const found = modelInputs.map((i) => `\`${i.name}\` ${formatShape(i.shape)}`).join(", ") || "no model input";
    report(
      "VN064",
      `a detector reads clips and one \`boxes()\` input [K, 5]; \`${network.name}\` reads ${found}`,
      site.name,
      "`input boxes = boxes()` beside `input video = clip(...)`, and `[features, boxes] -> roi_align(...)`",
    );
    return;
  }
  const rows = layerRows(network.layers);
  const classes = network.classes;
  if (network.outputs.length !== 1) {
    report(
      "VN063",
      `a detector has one output, the per-box class logits [K, classes]; \`${network.name}\` has ${network.outputs.length}`,
      site.outputs[1] ?? site.name,
    );
    return;
  }
  const layer = byId.get(network.outputs[0]!)!;
  const range = site.outputs[0] ?? site.name;
  if (rows.get(layer.id) !== "boxes") {
    report(
      "VN063",
      `a detector's output has one row per box [K, classes]; \`${layer.name}\` has one row per clip ${formatShape(layer.shape)}`,
      range,
      "pool per-box features with `[features, boxes] -> roi_align(...)` before the classifier",
    );
  } else if (classes !== undefined && (layer.shape.length !== 1 || layer.shape[0] !== classes)) {
    report(
      "VN024",
      `the output is ${formatShape(layer.shape, "K")} but the network has ${classes} classes: expected [K, ${classes}]`,
      range,
      "end with `dense(classes)`",
    );
  } else if (layer.op === "sigmoid" || layer.op === "softmax") {
    report(
      "VN063",
      `a detector outputs logits: the task applies the sigmoid (binary cross-entropy in training, probabilities in eval and detect)`,
      range,
      `remove the final \`${layer.op}\``,
    );
  }
}

export const detection: TaskContract = {
  name: "detection",
  doc: "Who does what in each keyframe: per-box, multi-label action scores for person boxes (AVA), from a clip centred on the keyframe.",
  inputs:
    "a clip `clip(frames, size)` [N, T, H, W, 3] centred on each keyframe (and its streams), and `boxes()` [K, 5]: each box's clip index in the batch and x1, y1, x2, y2 in the clip's pixels",
  outputs: [
    {
      name: "logits",
      shape: "[K, classes]",
      doc: "Per-box class logits; the sigmoid of each is the probability that the box's person does that action (an exported detector also outputs them as `probabilities`).",
    },
  ],
  losses: [
    {
      name: "binary_cross_entropy",
      doc: "Mean binary cross-entropy of the per-box sigmoid probabilities against the boxes' multi-hot labels (PySlowFast's `BCELoss` for AVA).",
    },
  ],
  metrics: [
    {
      name: "frame_map",
      doc: "Frame-mAP at IoU 0.5: per-class PASCAL VOC average precision of the scored boxes over every keyframe, and their mean (ActivityNet's AVA evaluation, as PySlowFast's `ava_eval_helper` and MMAction2's `ava_utils` run it).",
    },
  ],
  datasets: [
    {
      name: "ava-csv",
      doc: "AVA's files: annotation CSVs (video_id, timestamp, x1, y1, x2, y2 normalised, action_id, person_id), the label map .pbtxt, person proposals with scores, the excluded timestamps.",
    },
    {
      name: "builtin:motion-boxes",
      doc: "Synthetic clips in which two or three objects each move in their own way, with their boxes and motions (`vnet data synth --variant boxes` writes them with AVA-format files).",
    },
  ],
  check: checkDetector,
};

/**
 * Mean binary cross-entropy of per-box logits [K, C] against multi-hot labels [K, C]:
 * -mean(y log sigmoid(x) + (1 - y) log sigmoid(-x)), PyTorch's `BCEWithLogitsLoss` (= `BCELoss`
 * of the sigmoid, computed stably).
 */
export function sigmoidBinaryCrossEntropy<T>(ops: TensorAlgebra<T>, logits: T, labels: T): T {
  const positive = ops.mul(labels, ops.logSigmoid(logits));
  const negative = ops.mul(ops.sub(ops.scalar(1), labels), ops.logSigmoid(ops.mul(ops.scalar(-1), logits)));
  return ops.mul(ops.scalar(-1), ops.mean(ops.add(positive, negative)));
}
