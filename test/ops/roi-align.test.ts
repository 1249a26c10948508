/**
 * roi_align against torchvision.ops.roi_align (test/fixtures/detection/roi_align.json from
 * scripts/fixtures/make_roi_align_fixture.py): boxes inside, across and past the borders,
 * smaller than a bin, empty and reversed, both `aligned` modes, fixed and adaptive sampling; the
 * tfjs layer's forward and gradient, the ONNX training step's formulation (the sampling matrix
 * times the map's positions, differentiated by vnet's autodiff) forward and gradient, ONNX
 * Runtime's RoiAlign through the exporter, empty box lists, and the checker's shape rules.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { exportOnnx, programSources } from "../../src/backends/onnx/index.js";
import { VnetRoiAlign } from "../../src/backends/tfjs/layers/roi-align.js";
import { differentiate } from "../../src/backends/onnx/autodiff/differentiate.js";
import { Tape } from "../../src/backends/onnx/autodiff/tape.js";
import { attr, GraphBuilder } from "../../src/backends/onnx/builder.js";
import { RoiAlignBoxError, roiAlignMatrix, roiAlignSamples, type RoiAlignGeometry } from "../../src/ops/roi-align.js";
import { WeightStore } from "../../src/weights/store.js";
import { checkText, codes, compileNetwork, maxDiff } from "../helpers.js";

interface Case {
  readonly resolution: [number, number];
  readonly spatial_scale: number;
  readonly sampling_ratio: number;
  readonly aligned: boolean;
  readonly output: number[];
  readonly loss_weights: number[];
  readonly gradient: number[];
}
const fixture = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../fixtures/detection/roi_align.json"), "utf8")) as {
  map: [number, number, number, number];
  features: number[];
  boxes: number[][];
  cases: Case[];
};
const [N, H, W, C] = fixture.map;
const K = fixture.boxes.length;
const geometryOf = (c: Case): RoiAlignGeometry => ({
  resolution: c.resolution,
  spatialScale: c.spatial_scale,
  samplingRatio: c.sampling_ratio,
  aligned: c.aligned,
});
const label = (c: Case) => `${c.resolution.join("x")} scale ${c.spatial_scale} ratio ${c.sampling_ratio} ${c.aligned ? "aligned" : "unaligned"}`;

/** The sparse sampling map applied on the host. */
function applySamples(c: Case): Float32Array {
  const s = roiAlignSamples(fixture.boxes.flat(), { batch: N, height: H, width: W }, geometryOf(c));
  const out = new Float32Array(K * c.resolution[0] * c.resolution[1] * C);
  for (let i = 0; i < s.rows.length; i++) for (let ch = 0; ch < C; ch++) out[s.rows[i]! * C + ch]! += s.weights[i]! * fixture.features[s.columns[i]! * C + ch]!;
  return out;
}

describe("roi_align equals torchvision.ops.roi_align", () => {
  const features = tf.tensor4d(fixture.features, [N, H, W, C]);
  const boxes = tf.tensor2d(fixture.boxes);

  for (const c of fixture.cases) {
    it(`the sampling map: ${label(c)}`, () => {
      expect(maxDiff(applySamples(c), c.output)).toBeLessThan(1e-5);
    });

    it(`the ONNX training step's RoIAlign (sampling matrix x positions, vnet's autodiff in ONNX Runtime), forward and gradient: ${label(c)}`, async () => {
      const [ph, pw] = c.resolution;
      const g = new GraphBuilder();
      const positions = g.input("positions", [N * H * W, C]);
      const samples = g.input("samples", [K * ph * pw, N * H * W]);
      const bins = g.op("MatMul", [samples, positions], "bins");
      const weighted = g.op("Mul", [bins, g.floatConstant("weights", [K * ph * pw, C], c.loss_weights)], "weighted");
      const loss = g.op("ReduceSum", [weighted], "loss_sum", { keepdims: attr.int(0) });
      const grads = differentiate(new Tape(g, {}), loss, [positions]);
      g.reserve("bins_out");
      g.output(bins, "bins_out", [K * ph * pw, C]);
      g.reserve("grad");
      g.output(grads.get(positions)!, "grad", [N * H * W, C]);
      const session = await ort.InferenceSession.create(g.serialize({ name: "roi", opset: 17, producerVersion: "test", docString: "", metadata: {} }), {
        logSeverityLevel: 3,
      });
      const matrix = roiAlignMatrix(fixture.boxes.flat(), { batch: N, height: H, width: W }, geometryOf(c));
      const result = await session.run({
        positions: new ort.Tensor("float32", Float32Array.from(fixture.features), [N * H * W, C]),
        samples: new ort.Tensor("float32", matrix, [K * ph * pw, N * H * W]),
      });
      await session.release();
      expect(maxDiff(result.bins_out!.data as Float32Array, c.output)).toBeLessThan(1e-5);
      expect(maxDiff(result.grad!.data as Float32Array, c.gradient)).toBeLessThan(1e-5);
    });

    it(`the tfjs layer, forward and gradient: ${label(c)}`, () => {
      const layer = new VnetRoiAlign(geometryOf(c));
      const y = layer.apply([features, boxes]) as tf.Tensor;
      expect(y.shape).toEqual([K, ...c.resolution, C]);
      expect(maxDiff(y.dataSync(), c.output)).toBeLessThan(1e-5);
      const weights = tf.tensor(c.loss_weights, y.shape);
      const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply([x, boxes]) as tf.Tensor, weights)))(features);
      expect(maxDiff(grad.dataSync(), c.gradient)).toBeLessThan(1e-5);
    });
  }

  it("an empty box list gives [0, PH, PW, C]; a batch index outside the batch is refused", () => {
    const layer = new VnetRoiAlign({ resolution: [2, 2], spatialScale: 1, samplingRatio: 0, aligned: true });
    const y = layer.apply([features, tf.zeros([0, 5])]) as tf.Tensor;
    expect(y.shape).toEqual([0, 2, 2, C]);
    expect(() => roiAlignSamples([2, 0, 0, 1, 1], { batch: N, height: H, width: W }, geometryOf(fixture.cases[0]!))).toThrow(RoiAlignBoxError);
  });
});

describe("roi_align in a network", () => {
  const source = (head: string) => `network d {
    classes = 3
    input video = clip(frames = 2, size = [9, 11])
    input boxes = boxes()
    ${head}
  }`;

  it("ONNX Runtime's RoiAlign computes what tfjs does, for boxes across the borders and for no boxes", async () => {
    for (const aligned of [true, false]) {
      const result = checkText(
        source(`x = video -> conv3d(4, kernel = 1) -> temporal_pool
        output [x, boxes] -> roi_align(resolution = [3, 2], spatial_scale = 0.5, sampling_ratio = 0, aligned = ${aligned}) -> flatten -> dense(classes)`),
      );
      expect(result.diagnostics).toEqual([]);
      const network = result.networks[0]!;
      const { model, graph } = compileNetwork(network, { seed: 3 });
      const exported = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
      expect(exported.diagnostics).toEqual([]);
      const session = await ort.InferenceSession.create(exported.bytes!);
      const video = tf.randomUniform([N, 2, H, W, 3], 0, 1, "float32", 5);
      for (const rows of [fixture.boxes.map((b) => b.map((v, i) => (i === 0 ? v : v * 2))), []]) {
        const boxes = tf.tensor2d(rows.flat(), [rows.length, 5]);
        const ours = model!.apply([video, boxes]) as tf.Tensor;
        const fed = await session.run({
          video: new ort.Tensor("float32", video.dataSync() as Float32Array, video.shape),
          boxes: new ort.Tensor("float32", boxes.dataSync() as Float32Array, [rows.length, 5]),
        });
        expect(fed.logits!.dims).toEqual([rows.length, 3]);
        if (rows.length) expect(maxDiff(fed.logits!.data as Float32Array, ours.dataSync())).toBeLessThan(1e-4);
      }
      await session.release();
    }
  });

  it("the checker wants a feature map and boxes", () => {
    expect(codes(checkText(source("output [video, boxes] -> roi_align -> flatten -> dense(classes)")))).toEqual(["VN021"]);
    expect(codes(checkText(source("x = video -> temporal_pool\n output [x, x] -> roi_align -> flatten -> dense(classes)")))).toEqual(["VN021"]);
  });
});
