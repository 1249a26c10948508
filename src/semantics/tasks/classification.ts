/**
 * Classification: one video (clip views, averaged) to class scores. The network's output is
 * `[N, classes]` logits or probabilities (src/ir/scores.ts says which); training minimises the
 * softmax cross-entropy, per stream for a two-stream `score_fusion(train = "separate")`.
 */
import { formatShape } from "../../ops/values.js";
import type { TensorAlgebra } from "./algebra.js";
import type { TaskContract } from "./contract.js";

export const classification: TaskContract = {
  name: "classification",
  doc: "Which action a video shows: class scores from clip views, averaged over the test protocol's views.",
  inputs: "a clip `clip(frames, size)` [N, T, H, W, 3] or an image `image(size)` [N, H, W, 3], and the streams derived from it",
  outputs: [{ name: "scores", shape: "[N, classes]", doc: "Class logits, or probabilities when the network ends in a softmax or a softmax score fusion." }],
  losses: [
    {
      name: "softmax_cross_entropy",
      doc: "Softmax cross-entropy of the logits (log-probabilities for probability outputs), with the `training` section's label smoothing; each stream's own for `score_fusion(train = \"separate\")`.",
    },
  ],
  metrics: [
    { name: "top1", doc: "Top-1 accuracy over videos." },
    { name: "top5", doc: "Top-5 accuracy over videos." },
    { name: "per_class", doc: "Top-1 accuracy per class." },
    { name: "confusion", doc: "The confusion matrix (rows: true class)." },
  ],
  datasets: [
    { name: "builtin:motion", doc: "Synthetic clips whose class is only in the motion (src/data/motion.ts)." },
    { name: "builtin:motion-appearance", doc: "Synthetic clips whose class is the object's appearance (the control)." },
    { name: "class-folders", doc: "A folder with one sub-folder of videos per class (UCF101 style), optionally under train/, val/, test/." },
    { name: "list-files", doc: "MMAction2-style lists: `relative/path.mp4 label` lines, the label an index or a name (classes.txt)." },
  ],
  check(network, site, report) {
    const classes = network.classes;
    if (classes === undefined) return;
    network.outputs.forEach((id, i) => {
      const shape = network.layers.find((l) => l.id === id)?.shape;
      if (!shape || (shape.length === 1 && shape[0] === classes)) return;
      report(
        "VN024",
        `the output is ${formatShape(shape)} but the network has ${classes} classes: expected [N, ${classes}]`,
        site.outputs[i] ?? site.name,
        shape.length === 1 ? "end with `dense(classes)`" : "pool or flatten to [N, F] and end with `dense(classes)`",
      );
    });
  },
};

/**
 * Mean softmax cross-entropy of `logits` [N, K] against one-hot labels [N, K], with label
 * smoothing `smoothing` (the targets become onehot * (1 - s) + s / K), as tfjs's and PyTorch's
 * `label_smoothing` define it.
 */
export function softmaxCrossEntropy<T>(ops: TensorAlgebra<T>, logits: T, onehot: T, smoothing = 0): T {
  const classes = ops.shape(logits).at(-1)!;
  const targets = smoothing > 0 ? ops.add(ops.mul(onehot, ops.scalar(1 - smoothing)), ops.scalar(smoothing / classes)) : onehot;
  const perExample = ops.sum(ops.mul(targets, ops.logSoftmax(logits)), -1);
  return ops.mul(ops.scalar(-1), ops.mean(perExample));
}
