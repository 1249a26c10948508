/** What every task's `vnet train` prints the same way (run-util.ts): the optimisation line, the progress and engine lines, the files written. */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { describeOptimisation, trainingReports, wroteRun } from "../../src/cli/run-util.js";
import type { TrainingConfig } from "../../src/runtime/train.js";

const config: TrainingConfig = {
  optimizer: "adam",
  lr: 0.004,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0.0001,
  schedule: "cosine",
  steps: [],
  gamma: 0.1,
  warmup: 0,
  warmupStartLr: 0,
  epochs: 8,
  batch: 16,
  labelSmoothing: 0,
};

describe("the lines vnet train prints for every task", () => {
  it("describes the optimisation, naming warm-up epochs (and a start other than 0) only when there are some", () => {
    expect(describeOptimisation(config)).toBe("adam lr 0.004 (cosine), weight decay 0.0001, batch 16, 8 epochs");
    expect(describeOptimisation({ ...config, optimizer: "sgd", schedule: "step", warmup: 2 })).toBe(
      "sgd lr 0.004 (step, 2 warm-up epochs), weight decay 0.0001, batch 16, 8 epochs",
    );
    expect(describeOptimisation({ ...config, schedule: "step", warmup: 5, warmupStartLr: 0.000125 })).toBe(
      "adam lr 0.004 (step, 5 warm-up epochs from 0.000125), weight decay 0.0001, batch 16, 8 epochs",
    );
  });

  it("reports the engine and the log to out, the progress bar in place, and passes Ctrl-C on", () => {
    const out: string[] = [];
    const progress: string[] = [];
    const interrupt = new AbortController().signal;
    const reports = trainingReports({ out: (s) => out.push(s), err: () => {}, progress: (s) => progress.push(s), interrupt });
    reports.onEngine("tfjs (cpu)", "");
    reports.onEngine("ONNX Runtime", "the network exports");
    reports.log("a line");
    reports.progress("epoch 1/2 [###]", false);
    reports.progress("epoch 1/2 [######]", true);
    expect(out).toEqual(["engine: tfjs (cpu)", "engine: ONNX Runtime (the network exports)", "a line"]);
    expect(progress).toEqual(["\repoch 1/2 [###]", "\repoch 1/2 [######]\n"]);
    expect(reports.signal).toBe(interrupt);
  });

  it("names the files a finished run holds, the curves only with --plot", () => {
    const run = path.join("runs", "a");
    expect(wroteRun(run, false)).toBe(`wrote ${path.join(run, "metrics.jsonl")} and ${path.join(run, "checkpoint")}/`);
    expect(wroteRun(run, true)).toBe(`wrote ${path.join(run, "metrics.jsonl")}, ${path.join(run, "curves.png")} and ${path.join(run, "checkpoint")}/`);
  });
});
