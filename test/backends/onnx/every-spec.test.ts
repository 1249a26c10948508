/**
 * Every operator of the catalogue and every task trains: every spec of specs/ (at the small input
 * of bench/lib/onnx-fixtures.ts, with its full-size weights), and the tiny detectors of
 * specs/tiny (specs/ may hold none yet), builds its ONNX training step and takes one SGD step in
 * ONNX Runtime with trained-like weights: classifiers on one-hot labels, localizers (BMN) on BMN's
 * targets, detectors on boxes (their roi_align as a fed sampling matrix) and multi-hot labels. The
 * loss is finite, every trainable weight gets a finite update, and every trained batch norm's
 * moving statistics move.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { checkResized, SMALL_INPUTS, trainedLikeWeights } from "../../../bench/lib/onnx-fixtures.js";
import { buildTrainingStep, LEARNING_RATE, LOSS } from "../../../src/backends/onnx/index.js";
import { roiAlignMatrix } from "../../../src/ops/roi-align.js";
import { checkSpec, randomBoxes } from "../../onnx-helpers.js";

const ROOT = path.resolve(__dirname, "../../../specs");
const BATCH = 2;
/** Boxes per detector batch: more than the batch, so per-box and per-clip rows differ. */
const BOXES = 3;
const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

const specs = fs
  .readdirSync(ROOT)
  .filter((f) => f.endsWith(".vnet"))
  .map((f) => ({ file: path.join(ROOT, f), input: SMALL_INPUTS[f.replace(/\.vnet$/, "")] }));
const tinyDetectors = fs
  .readdirSync(path.join(ROOT, "tiny"))
  .filter((f) => /ava.*\.vnet$/.test(f))
  .map((f) => ({ file: path.join(ROOT, "tiny", f), input: undefined }));

describe("every spec takes a training step on ONNX Runtime", () => {
  it("covers the tiny detectors", () => expect(tinyDetectors.length).toBeGreaterThan(0));
  for (const { file, input } of [...specs, ...tinyDetectors]) {
    const label = path.relative(ROOT, file) + (input ? ` at ${input[0]}x${input[1]}` : "");
    it(label, async () => {
      const [frames, side] = input ?? [0, 0];
      if (!input && !file.includes("/tiny/")) throw new Error(`${file}: add its small input to SMALL_INPUTS in bench/lib/onnx-fixtures.ts`);
      const { graph } = input ? checkResized(file, frames, side) : checkSpec(file);
      const detector = graph.task === "detection";
      const boxes = detector ? BOXES : 0;
      const step = buildTrainingStep(graph, { batch: BATCH, boxes, optimizer: { kind: "sgd", momentum: 0.9, nesterov: false }, weightDecay: 1e-4 });
      expect(step.diagnostics).toEqual([]);
      const weights = trainedLikeWeights(3);
      const feeds: Record<string, ort.Tensor> = {};
      let seed = 1;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const filled = (dims: readonly number[], value: () => number) => new ort.Tensor("float32", Float32Array.from({ length: size(dims) }, value), [...dims]);
      for (const modelInput of step.inputs) {
        if (!modelInput.boxes) {
          feeds[modelInput.name] = filled([BATCH, ...modelInput.shape], random);
          continue;
        }
        // Boxes inside the clip: [clip index, x1, y1, x2, y2] in its pixels.
        const [height, width] = graph.inputs.find((i) => !i.boxes)!.shape.slice(-3, -1) as [number, number];
        feeds[modelInput.name] = new ort.Tensor("float32", randomBoxes(boxes, BATCH, height, width, random), [boxes, 5]);
      }
      // Targets in [0, 1] (BMN's IoU maps and noise, its mask), or one-hot / multi-hot labels.
      for (const target of step.targets) {
        const binary = target.name.endsWith("labels") || target.name.endsWith("mask");
        feeds[target.name] = filled(target.dims, () => (binary ? (random() < 0.4 ? 1 : 0) : random()));
      }
      for (const roi of step.rois) {
        const matrix = roiAlignMatrix(feeds[roi.boxes]!.data as Float32Array, roi.map, roi.geometry);
        feeds[roi.input] = new ort.Tensor("float32", matrix, [
          matrix.length / (roi.map.batch * roi.map.height * roi.map.width),
          roi.map.batch * roi.map.height * roi.map.width,
        ]);
      }
      feeds[LEARNING_RATE] = new ort.Tensor("float32", Float32Array.of(0.01), []);
      for (const mask of step.masks)
        feeds[mask.input] = filled([(mask.perBox ? boxes : BATCH) * mask.rows, ...mask.shape], () => (random() < mask.rate ? 0 : mask.scale));
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
