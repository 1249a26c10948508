/**
 * One answer to "logits or probabilities", the IR's (src/ir/scores.ts), for training's loss,
 * evaluation and export. The lecture's single-frame baseline averages per-frame predictions:
 * `per_frame { ... -> softmax } -> temporal_pool` outputs probabilities. Training must take its
 * cross-entropy over their logarithm (not over them as if they were logits), and evaluation must
 * average them as they are (not softmax them a second time).
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { emitTfjs } from "../../src/backends/tfjs/index.js";
import { memorySplits } from "../../src/data/dataset.js";
import { ViewLoader } from "../../src/data/loader.js";
import { motionDataset } from "../../src/data/motion.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { lossHeads, outputScores } from "../../src/ir/scores.js";
import { predictVideos, tfjsScorer } from "../../src/runtime/evaluate.js";
import { evaluateLoss, trainingConfig, trainNetwork } from "../../src/runtime/train.js";
import { checkText, cpuScratch } from "../helpers.js";

const AVERAGED_PREDICTIONS = `network averaged {
  classes = 3
  input video = clip(frames = 4, size = 16)
  output video -> per_frame { conv2d(4, kernel = 3, stride = 2) as conv -> relu -> global_avg_pool -> dense(classes) as fc -> softmax } as frames -> temporal_pool
}`;

const scratch = cpuScratch("vnet-scores-");

const graph = () => lowerNetwork(checkText(AVERAGED_PREDICTIONS).networks[0]!);
// Four-frame videos for four-frame clips: every clip is its whole video, centre-cropped, unflipped.
const data = () => motionDataset({ classes: 3, frames: 4, size: 16, trainPerClass: 2, valPerClass: 1, seed: 3 });

describe("per_frame { ... -> softmax } -> temporal_pool", () => {
  it("outputs probabilities, by the IR: no final softmax, so their logits are log-probabilities", () => {
    const scores = outputScores(graph());
    expect(scores.kind).toBe("probabilities");
    expect(scores.softmaxInput).toBeUndefined();
    expect(lossHeads(graph()).map((h) => h.scores.kind)).toEqual(["probabilities"]);
  });

  it("trains on the cross-entropy of its probabilities: the first step's loss is mean -log p(label)", async () => {
    const g = graph();
    const dataset = data();
    // The loss training reports for a one-step epoch is the initial model's.
    const initial = emitTfjs(g, { seed: 2 }).model!;
    const clips = tf.tensor(dataset.train.clips, [dataset.train.count, 4, 16, 16, 3]);
    const p = (initial.predict(clips) as tf.Tensor).arraySync() as number[][];
    const expected = p.reduce((sum, row, i) => sum - Math.log(row[dataset.train.labels[i]!]! + 1e-8), 0) / p.length;
    clips.dispose();
    initial.dispose();
    // Probabilities taken as logits would give a loss near ln 3 whatever the model said.
    expect(Math.abs(expected - Math.log(3))).toBeGreaterThan(0.01);
    const config = trainingConfig(checkText(AVERAGED_PREDICTIONS).networks[0]!, { optimizer: "sgd", lr: 0.1, momentum: 0, batch: 6, epochs: 1 });
    const result = await trainNetwork(g, dataset, { config, runDir: path.join(scratch(), "train"), seed: 2 });
    expect(result.history[0]!.trainLoss).toBeCloseTo(expected, 4);

    // Evaluation averages the probabilities as they are (one view here): no second softmax.
    const splits = memorySplits(dataset);
    const loader = new ViewLoader({ geometry: g.protocol!, flows: [], workers: 0 });
    const reading = {
      loader,
      protocol: g.protocol!,
      flows: [],
      batch: 4,
      onFailure: (_: unknown, error: Error) => {
        throw error;
      },
    };
    const evaluated = await predictVideos(result.model, g, splits.val, reading);
    const val = tf.tensor(dataset.val.clips, [dataset.val.count, 4, 16, 16, 3]);
    const direct = (result.model.predict(val) as tf.Tensor).dataSync();
    for (let i = 0; i < direct.length; i++) expect(evaluated.scores[i]!).toBeCloseTo(direct[i]!, 6);
    // Its validation loss is the cross-entropy of those probabilities too.
    const loss = await evaluateLoss(tfjsScorer(result.model, g, reading), g, splits.val, reading);
    const rows = Array.from({ length: dataset.val.count }, (_, i) => direct.subarray(i * 3, i * 3 + 3));
    expect(loss.loss).toBeCloseTo(rows.reduce((sum, row, i) => sum - Math.log(row[dataset.val.labels[i]!]! + 1e-8), 0) / rows.length, 5);
    await loader.close();
    val.dispose();
    result.model.dispose();
  });
});
