/**
 * The task table (src/semantics/tasks): contracts are complete, a network's task is checked, and
 * the loss formulas written over the tensor algebra compute what the reference implementations do.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { TFJS_ALGEBRA } from "../../src/runtime/tensor-algebra.js";
import { softmaxCrossEntropy } from "../../src/semantics/tasks/classification.js";
import { DEFAULT_TASK, TASK_NAMES, TASKS } from "../../src/semantics/tasks/index.js";
import { checkText, codes } from "../helpers.js";

describe("task contracts", () => {
  it("every task has a contract with outputs, losses, metrics and datasets", () => {
    expect([...TASKS.keys()]).toEqual([...TASK_NAMES]);
    for (const task of TASKS.values()) {
      expect(task.doc.length).toBeGreaterThan(10);
      for (const list of [task.outputs, task.losses, task.metrics, task.datasets]) {
        expect(list.length).toBeGreaterThan(0);
        for (const entry of list) expect(entry.doc.length).toBeGreaterThan(10);
      }
    }
  });

  it("a network without `task` is a classifier; `task` names its task", () => {
    const plain = checkText(`network a { classes = 3
      input video = clip(frames = 4, size = 8)
      output video -> conv3d(4, kernel = 3) -> global_avg_pool -> dense(classes) }`);
    expect(codes(plain)).toEqual([]);
    expect(plain.networks[0]!.task).toBe(DEFAULT_TASK);
    const stated = checkText(`network a { classes = 3
      task = "classification"
      input video = clip(frames = 4, size = 8)
      output video -> conv3d(4, kernel = 3) -> global_avg_pool -> dense(classes) }`);
    expect(codes(stated)).toEqual([]);
    expect(stated.networks[0]!.task).toBe("classification");
  });

  it("`task` must be a known task name", () => {
    const result = checkText(`network a { task = 3
      input video = clip(frames = 4, size = 8)
      output video -> global_avg_pool }`);
    expect(codes(result)).toEqual(["VN014"]);
  });

  it("a sequence input has the declared length and features, and `.frames` / `.channels`", () => {
    const result = checkText(`network a { classes = 2
      input features = sequence(length = 12, features = 6)
      output features -> lstm(features.channels + features.frames) -> dense(classes) }`);
    expect(codes(result)).toEqual([]);
    const network = result.networks[0]!;
    expect(network.inputs[0]!.shape).toEqual([12, 6]);
    expect(network.layers.find((l) => l.op === "lstm")!.args.units).toBe(18);
    expect(
      codes(
        checkText(`network a { input f = sequence(length = 12)
      output f -> global_avg_pool }`),
      ),
    ).toEqual(["VN013"]);
  });
});

describe("classification loss", () => {
  it("softmaxCrossEntropy over tfjs equals tf.losses.softmaxCrossEntropy, value and gradient", () => {
    const logits = tf.tensor2d([
      [1.5, -0.3, 0.2, 2.0],
      [-1.0, 0.0, 3.0, 0.5],
      [0.1, 0.1, 0.1, 0.1],
    ]);
    const onehot = tf.oneHot(tf.tensor1d([3, 0, 2], "int32"), 4);
    for (const smoothing of [0, 0.2]) {
      const ours = tf.valueAndGrad((x: tf.Tensor) => softmaxCrossEntropy(TFJS_ALGEBRA, x, onehot, smoothing) as tf.Scalar)(logits);
      const theirs = tf.valueAndGrad((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, x, undefined, smoothing) as tf.Scalar)(logits);
      expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 6);
      const [a, b] = [ours.grad.dataSync(), theirs.grad.dataSync()];
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
    }
  });
});
