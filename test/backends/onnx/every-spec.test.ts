/**
 * Every operator of the catalogue trains: every classification spec of specs/ (at the small input of
 * bench/lib/onnx-fixtures.ts, with its full-size weights) builds its ONNX training step and takes
 * one SGD step in ONNX Runtime with trained-like weights: the loss is finite, every trainable weight
 * gets a finite update, and every trained batch norm's moving statistics move.
 */
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { checkResized, SMALL_INPUTS, trainedLikeWeights } from "../../../bench/lib/onnx-fixtures.js";
import { buildTrainingStep, LABELS, LEARNING_RATE, LOSS } from "../../../src/backends/onnx/index.js";

const SPECS = path.resolve(__dirname, "../../../specs");
const BATCH = 2;
const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

describe("every spec takes a training step on ONNX Runtime", () => {
  for (const [name, [frames, side]] of Object.entries(SMALL_INPUTS)) {
    it(`${name} at ${frames}x${side}x${side}`, async () => {
      const { network, graph } = checkResized(path.join(SPECS, `${name}.vnet`), frames, side);
      const step = buildTrainingStep(graph, { batch: BATCH, optimizer: { kind: "sgd", momentum: 0.9, nesterov: false }, weightDecay: 1e-4 });
      if (network.task !== "classification") {
        // The step builds the classification loss; localization training (BMN) is not built yet by any engine.
        expect(step.diagnostics.map((d) => d.code)).toEqual(["VN081"]);
        return;
      }
      expect(step.diagnostics).toEqual([]);
      const weights = trainedLikeWeights(3);
      const feeds: Record<string, ort.Tensor> = {};
      let seed = 1;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (const input of step.inputs)
        feeds[input.name] = new ort.Tensor("float32", Float32Array.from({ length: BATCH * size(input.shape) }, random), [BATCH, ...input.shape]);
      const onehot = new Float32Array(BATCH * step.classes);
      onehot[1] = 1;
      onehot[step.classes + 2] = 1;
      feeds[LABELS] = new ort.Tensor("float32", onehot, [BATCH, step.classes]);
      feeds[LEARNING_RATE] = new ort.Tensor("float32", Float32Array.of(0.01), []);
      for (const mask of step.masks)
        feeds[mask.input] = new ort.Tensor(
          "float32",
          Float32Array.from({ length: BATCH * mask.rows * size(mask.shape) }, () => (random() < mask.rate ? 0 : mask.scale)),
          [BATCH * mask.rows, ...mask.shape],
        );
      for (const s of step.state) {
        const values = s.kind === "slot" ? new Float32Array(size(s.dims)) : weights.read(s.decl!);
        feeds[s.input] = new ort.Tensor("float32", s.layout && s.kind !== "slot" ? s.layout.toOnnx(values, s.decl!.shape).data : values, [...s.dims]);
      }
      const session = await ort.InferenceSession.create(step.bytes!, { logSeverityLevel: 3 });
      const result = await session.run(feeds);
      await session.release();
      expect(Number.isFinite((result[LOSS]!.data as Float32Array)[0]), "loss").toBe(true);
      let moved = 0;
      for (const s of step.state.filter((t) => t.next)) {
        const next = result[s.next!]!.data as Float32Array;
        expect(next.every(Number.isFinite), s.input).toBe(true);
        if (s.kind === "slot") continue;
        const before = feeds[s.input]!.data as Float32Array;
        if (next.some((v, i) => v !== before[i])) moved++;
        else if (s.kind === "statistic") throw new Error(`${s.input} did not move`);
      }
      // Almost every weight moves (a weight whose gradient is exactly zero, e.g. behind a dead ReLU, may not).
      const updated = step.state.filter((t) => t.next && t.kind !== "slot").length;
      expect(moved / updated).toBeGreaterThan(0.9);
    });
  }
});
