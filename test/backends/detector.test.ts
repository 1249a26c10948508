/**
 * The tiny detector (specs/tiny/tiny_slow_ava.vnet) checks as a detector, exports to ONNX with
 * `video` and `boxes` inputs and per-box `logits` / `probabilities` [K, classes] that ONNX Runtime
 * computes as tfjs does (within 1e-4), fed directly and through the runtime's Detector of each
 * (what vnet detect/eval/predict run), and the detection contract refuses clip-level outputs.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { exportOnnx, programSources } from "../../src/backends/onnx/index.js";
import { detectorGeometry, detectorProtocol, onnxDetector, scoreBoxes, tfjsDetector } from "../../src/runtime/detection/detect.js";
import { loadOnnxModel } from "../../src/runtime/onnx.js";
import { checkFiles } from "../../src/semantics/check.js";
import { WeightStore } from "../../src/weights/store.js";
import { checkText, codes, compileNetwork } from "../helpers.js";
import { checkSpec, exported } from "../onnx-helpers.js";
import { verifyOnnxExport } from "../../src/runtime/onnx-verify.js";

describe("a detector in both backends", () => {
  it("ONNX Runtime equals tfjs on the per-box scores; the metadata says what the model reads and returns", async () => {
    const result = checkFiles([path.resolve(__dirname, "../../specs/tiny/tiny_slow_ava.vnet")]);
    expect(result.diagnostics).toEqual([]);
    const network = result.networks[0]!;
    expect(network.task).toBe("detection");
    const { model, graph } = compileNetwork(network, { seed: 2 });
    const exported = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
    expect(exported.diagnostics).toEqual([]);
    const described = JSON.parse(exported.metadata["vnet.inputs"]!).map((i: { name: string; shape: string[] }) => [i.name, i.shape[0]]);
    expect(new Map(described)).toEqual(
      new Map([
        ["boxes", "K"],
        ["video", "N"],
      ]),
    );
    expect(exported.metadata["vnet.task"]).toBe("detection");
    const session = await ort.InferenceSession.create(exported.bytes!);
    expect([...session.outputNames]).toEqual(["logits", "probabilities"]);
    const video = tf.randomUniform([2, 4, 32, 32, 3], 0, 1, "float32", 1);
    const boxes = tf.tensor2d([
      [0, 2, 3, 20, 18],
      [1, 0, 0, 32, 32],
      [1, 25.5, 10, 40, 31],
      [0, 8, 8, 8.5, 9],
    ]);
    // The data pipeline's model inputs (the normalised stream and the boxes), as training and vnet detect feed them.
    const clips = video.dataSync() as Float32Array;
    const rows = boxes.arraySync();
    const keyframes = [0, 1].map((n) => ({
      video: `v${n}`,
      timestamp: 0,
      clip: clips.slice(n * 4 * 32 * 32 * 3, (n + 1) * 4 * 32 * 32 * 3),
      boxes: [],
      proposals: rows.filter((r) => r[0] === n).map((r) => ({ x1: r[1]! / 32, y1: r[2]! / 32, x2: r[3]! / 32, y2: r[4]! / 32, score: 1 })),
    }));
    const perKeyframe = await scoreBoxes(tfjsDetector(graph, model!), keyframes, (k) => k.proposals);
    // scoreBoxes orders boxes by keyframe: rows 0 and 3 (clip 0), then 1 and 2 (clip 1).
    const order = [0, 3, 1, 2];
    const fed = await session.run({
      video: new ort.Tensor("float32", video.dataSync() as Float32Array, video.shape),
      boxes: new ort.Tensor("float32", boxes.dataSync() as Float32Array, [4, 5]),
    });
    expect(fed.probabilities!.dims).toEqual([4, 4]);
    const theirs = fed.probabilities!.data as Float32Array;
    const mine = [...perKeyframe[0]!, ...perKeyframe[1]!];
    order.forEach((row, i) => {
      for (let c = 0; c < 4; c++) expect(Math.abs(theirs[row * 4 + c]! - mine[i * 4 + c]!)).toBeLessThan(1e-4);
    });
    await session.release();
    // The runtime's own path (vnet detect/eval/predict --runtime onnx): the model loaded from its bytes and metadata, fed by scoreBoxes.
    const loaded = onnxDetector(await loadOnnxModel(exported.bytes!));
    expect(detectorGeometry(loaded)).toEqual({ frames: 4, height: 32, width: 32 });
    expect(loaded.classes).toBe(4);
    expect(loaded.inputs.find((i) => i.boxes)?.name).toBe("boxes");
    const viaOrt = await scoreBoxes(loaded, keyframes, (k) => k.proposals, 1);
    await loaded.close();
    expect(viaOrt.map((s) => s.length)).toEqual([8, 8]);
    viaOrt.forEach((scores, n) => scores.forEach((p, i) => expect(Math.abs(p - perKeyframe[n]![i]!)).toBeLessThan(1e-4)));
    // A keyframe without boxes gets no rows (no model call for a batch without boxes).
    expect(await scoreBoxes(tfjsDetector(graph, model!), keyframes, () => [])).toEqual([new Float32Array(0), new Float32Array(0)]);
    const viaTfjs = await scoreBoxes(tfjsDetector(graph, model!), keyframes, (k) => k.proposals);
    expect(viaTfjs).toEqual(perKeyframe);
  });

  it("the frame-level baseline (tiny_slow_ava_frame) gives every box of a keyframe its clip's scores, in both runtimes", async () => {
    const result = checkFiles([path.resolve(__dirname, "../../specs/tiny/tiny_slow_ava_frame.vnet")]);
    expect(result.diagnostics).toEqual([]);
    const network = result.networks.find((n) => n.name === "tiny_slow_ava_frame")!;
    const { model, graph } = compileNetwork(network, { seed: 3 });
    const exported = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
    expect(exported.diagnostics).toEqual([]);
    const clips = tf.randomUniform([2, 4, 32, 32, 3], 0, 1, "float32", 4).dataSync() as Float32Array;
    const size = 4 * 32 * 32 * 3;
    // Boxes anywhere, of any size, up to the whole frame.
    const boxes = [
      [
        { x1: 0, y1: 0, x2: 1, y2: 1 },
        { x1: 0.1, y1: 0.6, x2: 0.3, y2: 0.9 },
        { x1: 0.7, y1: 0.05, x2: 0.95, y2: 0.3 },
      ],
      [
        { x1: 0.4, y1: 0.4, x2: 0.45, y2: 0.5 },
        { x1: 0.02, y1: 0.02, x2: 0.2, y2: 0.98 },
      ],
    ];
    const keyframes = [0, 1].map((n) => ({
      video: `v${n}`,
      timestamp: 0,
      clip: clips.slice(n * size, (n + 1) * size),
      boxes: [],
      proposals: boxes[n]!.map((b) => ({ ...b, score: 1 })),
    }));
    const onTfjs = await scoreBoxes(tfjsDetector(graph, model!), keyframes, (k) => k.proposals);
    const loaded = onnxDetector(await loadOnnxModel(exported.bytes!));
    const onOrt = await scoreBoxes(loaded, keyframes, (k) => k.proposals);
    await loaded.close();
    for (const scores of [onTfjs, onOrt])
      scores.forEach((rows) => {
        for (let i = 4; i < rows.length; i++) expect(Math.abs(rows[i]! - rows[i % 4]!)).toBeLessThan(1e-6);
      });
    // The two clips differ, so their scores do (the baseline is not a constant).
    expect(Math.max(...[0, 1, 2, 3].map((c) => Math.abs(onTfjs[0]![c]! - onTfjs[1]![c]!)))).toBeGreaterThan(1e-4);
    onTfjs.forEach((rows, n) => rows.forEach((p, i) => expect(Math.abs(p - onOrt[n]![i]!)).toBeLessThan(1e-4)));
  });

  it("an export's verification (vnet compile/export --verify) feeds valid boxes and compares logits and probabilities", async () => {
    const spec = checkSpec(path.resolve(__dirname, "../../specs/tiny/tiny_slow_ava.vnet"));
    const { model, bytes } = exported(spec);
    const report = await verifyOnnxExport(spec.graph, model, bytes, { seed: 4, batches: [1, 3] });
    model.dispose();
    // Three boxes per clip (the frame, one inside, one across the right and bottom edges): K rows of 4 actions.
    expect(report.checks.map((c) => [c.batch, c.output])).toEqual([
      [1, "logits"],
      [1, "probabilities"],
      [3, "logits"],
      [3, "probabilities"],
    ]);
    for (const c of report.checks) {
      expect(c.maxAbs).toBeGreaterThan(0);
      expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    }
  });

  it("an exported detector stores its sampling protocol (the keyframe clips' stride); one without a section samples consecutive frames", async () => {
    const spec = (sampling: string) =>
      checkText(`network d {
  task = "detection"
  classes = 2
  input video = clip(frames = 2, size = 8)
  input boxes = boxes()
  x = video -> conv3d(2, kernel = 1) -> temporal_pool
  output [x, boxes] -> roi_align(resolution = 2) -> flatten -> dense(classes)
  ${sampling}
}`);
    for (const [sampling, train, test] of [
      ["sampling { train { stride = 3 } test { stride = 2 } }", 3, 2],
      ["", undefined, undefined],
    ] as const) {
      const result = spec(sampling);
      expect(result.diagnostics).toEqual([]);
      const { model, graph } = compileNetwork(result.networks[0]!, { seed: 1 });
      const onnx = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
      model!.dispose();
      expect(onnx.metadata["vnet.stride"]).toBe(String(test ?? 1));
      const loaded = onnxDetector(await loadOnnxModel(onnx.bytes!));
      await loaded.close();
      expect(loaded.protocol).toEqual(graph.protocol);
      expect(detectorProtocol(loaded).train.stride).toBe(train);
      expect(detectorProtocol(loaded).test.stride).toBe(test);
      // A detector exported before the protocol was stored: consecutive frames of its clip.
      const { protocol: _stored, ...older } = loaded;
      expect(detectorProtocol(older)).toMatchObject({ frames: 2, height: 8, width: 8, train: { choice: "random" } });
      expect(detectorProtocol(older).train.stride).toBeUndefined();
    }
  });

  it("the detection contract wants clips, boxes() and per-box logits (VN063, VN064)", () => {
    const head = `task = "detection"\n classes = 2\n input video = clip(frames = 2, size = 16)`;
    expect(codes(checkText(`network d { ${head}\n output video -> global_avg_pool -> dense(classes) }`))).toEqual(["VN064"]);
    expect(
      codes(
        checkText(
          `network d { ${head}\n input boxes = boxes()\n x = video -> temporal_pool\n _r = [x, boxes] -> roi_align(resolution = 2)\n output x -> global_avg_pool -> dense(classes) }`,
        ),
      ),
    ).toEqual(["VN063"]);
    expect(
      codes(
        checkText(
          `network d { ${head}\n input boxes = boxes()\n x = video -> temporal_pool\n output [x, boxes] -> roi_align(resolution = 2) -> flatten -> dense(classes) -> sigmoid }`,
        ),
      ),
    ).toEqual(["VN063"]);
    expect(
      codes(
        checkText(
          `network d { ${head}\n input boxes = boxes()\n x = video -> temporal_pool\n output [x, boxes] -> roi_align(resolution = 2) -> flatten -> dense(classes) }`,
        ),
      ),
    ).toEqual([]);
  });
});
