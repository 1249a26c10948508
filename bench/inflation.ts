/**
 * The lecture's recipe, measured at full tiny size: pre-train tiny_cnn_2d on frames of
 * builtin:motion-appearance, inflate it into tiny_cnn_i3d, and fine-tune on clips, against the same
 * 3D network from random initialisation: validation accuracy per epoch and the epochs each needs to
 * reach the target. (test/inflate-weights.test.ts checks the same claim at a CI size.)
 *
 *   npx tsc -p tsconfig.json && node dist/bench/inflation.js [--epochs 4] [--pretrain-epochs 6] [--train-clips 20] [--target 0.8]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { motionDataset } from "../src/data/motion.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { describeSelection, selectBackend, TRAINING_KERNELS } from "../src/runtime/backend.js";
import { trainingConfig, trainNetwork, type EpochMetrics } from "../src/runtime/train.js";
import { mapWeightsByName } from "../src/weights/by-name.js";
import { assignWeights, modelWeights } from "../src/weights/tensors.js";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, table, writeResults } from "./lib/harness.js";

interface Curve {
  readonly run: string;
  readonly valAccuracy: readonly number[];
  readonly epochsToTarget: number | null;
  readonly seconds: number;
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const epochs = Number(flags.get("epochs") ?? 4);
  const pretrainEpochs = Number(flags.get("pretrain-epochs") ?? 6);
  const perClass = Number(flags.get("train-clips") ?? 20);
  const target = Number(flags.get("target") ?? 0.8);
  const selection = await selectBackend({ requiredKernels: TRAINING_KERNELS });
  console.log(describeMachine(machine()));
  console.log(describeSelection(selection));
  const spec = (name: string): CheckedNetwork => checkFiles([path.join(repoRoot(), "specs", "tiny", `${name}.vnet`)]).networks[0]!;
  const net2d = spec("tiny_cnn_2d");
  const net3d = spec("tiny_cnn_i3d");
  const data = motionDataset({ variant: "appearance", classes: 5, frames: 4, size: 32, trainPerClass: perClass, valPerClass: 16, seed: 1 });
  const frames2d = motionDataset({ variant: "appearance", classes: 5, frames: 8, size: 32, trainPerClass: 40, valPerClass: 16, seed: 2 });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-inflation-"));
  const progress = (line: string, done: boolean) => process.stderr.write(done ? `\r${line}\n` : `\r${line}`);
  const curve = (run: string, history: readonly EpochMetrics[], seconds: number): Curve => {
    const k = history.findIndex((h) => h.valAccuracy >= target);
    return { run, valAccuracy: history.map((h) => h.valAccuracy), epochsToTarget: k < 0 ? null : k + 1, seconds };
  };
  const curves: Curve[] = [];

  let started = performance.now();
  const pretrained = await trainNetwork(lowerNetwork(net2d), frames2d, {
    config: trainingConfig(net2d, { optimizer: "adam", lr: 0.003, batch: 16, epochs: pretrainEpochs }),
    runDir: path.join(scratch, "2d"),
    seed: 1,
    progress,
  });
  curves.push(curve("tiny_cnn_2d on frames (pre-training)", pretrained.history, (performance.now() - started) / 1000));
  const mapping = mapWeightsByName(lowerNetwork(net3d), modelWeights(pretrained.model), {
    inflate: true,
    at: { file: net3d.file, range: net3d.range },
    source: "the 2D weights",
  });
  pretrained.model.dispose();
  for (const [run, lr, init] of [
    ["tiny_cnn_i3d, inflated", 0.001, true],
    ["tiny_cnn_i3d, random", 0.003, false],
  ] as const) {
    started = performance.now();
    const result = await trainNetwork(lowerNetwork(net3d), data, {
      config: trainingConfig(net3d, { optimizer: "adam", lr, batch: 16, epochs }),
      runDir: path.join(scratch, run.replace(/\W+/g, "-")),
      seed: 1,
      progress,
      ...(init ? { init: (m) => assignWeights(m, mapping.weights) } : {}),
    });
    result.model.dispose();
    curves.push(curve(run, result.history, (performance.now() - started) / 1000));
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  console.log(
    table(
      ["run", "val accuracy per epoch", `epochs to ${pct(target)}`, "seconds"],
      curves.map((c) => [c.run, c.valAccuracy.map(pct).join(" "), c.epochsToTarget === null ? "not reached" : String(c.epochsToTarget), c.seconds.toFixed(0)]),
    ),
  );
  console.log(`wrote ${writeResults("inflation", { machine: machine(), backend: selection.choice, target, trainClipsPerClass: perClass, curves })}`);
}
