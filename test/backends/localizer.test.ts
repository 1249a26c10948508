/**
 * The localizer's operators in both backends: conv1d and the boundary-matching layer in the
 * catalogue (shapes, parameters, MACs), a small BMN built from specs/lib/bmn.vnet computing what
 * MMAction2's BMN computes in PyTorch with the same weights, and ONNX Runtime computing what tfjs does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { exportOnnx, programSources } from "../../src/backends/onnx/index.js";
import { OPERATORS, isInferError } from "../../src/ops/catalogue.js";
import { checkFiles } from "../../src/semantics/check.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { WeightStore } from "../../src/weights/store.js";
import { checkText, codes, compileNetwork, maxDiff } from "../helpers.js";

const fixtures = path.resolve(__dirname, "../fixtures/localization");

interface ForwardCase {
  readonly config: { temporal_dim: number; feat_dim: number };
  readonly weights: { name: string; shape: number[]; values: number[] }[];
  readonly input: number[];
  readonly start: number[];
  readonly end: number[];
  readonly confidence: number[];
}
const forward = (JSON.parse(fs.readFileSync(path.join(fixtures, "bmn-reference.json"), "utf8")) as { forward: ForwardCase }).forward;

/** A PyTorch conv weight [out, in, ...kernel] in vnet's channels-last [...kernel, in, out]. */
function channelsLastKernel(values: number[], shape: number[]): tf.Tensor {
  const rank = shape.length;
  return tf.transpose(tf.tensor(values, shape), [...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1, 0]);
}

describe("catalogue", () => {
  const conv1d = OPERATORS.get("conv1d")!;
  const bm = OPERATORS.get("boundary_matching")!;

  it("conv1d: PyTorch's output length, grouped parameters and MACs", () => {
    const r = conv1d.infer([[100, 400]], { filters: 256, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 4, bias: true });
    expect(r).toEqual({ shape: [100, 256], params: 256 * 100 * 3 + 256, macs: 100 * 256 * 100 * 3 });
    const strided = conv1d.infer([[10, 6]], { filters: 4, kernel: 3, stride: 2, pad: 0, dilation: 2, groups: 1, bias: false });
    // floor((10 - 2 x 2 - 1) / 2) + 1 = 3 positions.
    expect(strided).toEqual({ shape: [3, 4], params: 6 * 3 * 4, macs: 3 * 4 * 6 * 3 });
    const wrongRank = conv1d.infer([[8, 4, 4, 3]], { filters: 4, kernel: 3, groups: 1 });
    expect(isInferError(wrongRank) && wrongRank.code).toBe("VN021");
  });

  it("boundary_matching: [T, C] -> [S, D, T, C], no parameters, a dense T x SDT product per channel", () => {
    expect(bm.infer([[100, 256]], { num_samples: 32, num_samples_per_bin: 3, boundary_ratio: 0.5 })).toEqual({
      shape: [32, 100, 100, 256],
      params: 0,
      macs: 100 * 32 * 100 * 100 * 256,
    });
    expect(bm.infer([[16, 8]], { num_samples: 4, num_samples_per_bin: 3, boundary_ratio: 0.5, durations: 10 })).toEqual({
      shape: [4, 10, 16, 8],
      params: 0,
      macs: 16 * 4 * 10 * 16 * 8,
    });
    const tooLong = bm.infer([[16, 8]], { num_samples: 4, num_samples_per_bin: 3, boundary_ratio: 0.5, durations: 20 });
    expect(isInferError(tooLong) && tooLong.arg).toBe("durations");
  });

  it("the checker locates misuse", () => {
    const result = checkText(`network a { classes = 2
      input video = clip(frames = 4, size = 8)
      output video -> boundary_matching -> global_avg_pool -> dense(classes) }`);
    expect(codes(result)).toEqual(["VN021"]);
  });
});

describe("a small BMN", () => {
  const result = checkFiles([path.join(fixtures, "bmn_parity.vnet")]);
  const network: CheckedNetwork = result.networks[0]!;
  const { model, graph } = compileNetwork(network, { zeroInit: true });
  const [n, c, t] = [2, forward.config.feat_dim, forward.config.temporal_dim];
  // PyTorch's [N, C, T] input, channels-last.
  const input = tf.transpose(tf.tensor3d(forward.input, [n, c, t]), [0, 2, 1]);

  it("checks clean, as a localizer", () => {
    expect(result.diagnostics).toEqual([]);
    expect(network.task).toBe("localization");
  });

  it("equals MMAction2's BMN in PyTorch with the same weights", () => {
    // vnet's layer names (specs/lib/bmn.vnet) for MMAction2's modules.
    const names: Record<string, string> = {
      "bmn.x_1d_b.conv1d": "x_1d_b.0",
      "bmn.x_1d_b.conv1d_2": "x_1d_b.2",
      "bmn.x_1d_s.conv1d": "x_1d_s.0",
      "bmn.x_1d_s.conv1d_2": "x_1d_s.2",
      "bmn.x_1d_e.conv1d": "x_1d_e.0",
      "bmn.x_1d_e.conv1d_2": "x_1d_e.2",
      "bmn.x_1d_p": "x_1d_p.0",
      "bmn.x_3d_p": "x_3d_p.0",
      "bmn.x_2d_p.conv2d": "x_2d_p.0",
      "bmn.x_2d_p.conv2d_2": "x_2d_p.2",
      "bmn.x_2d_p.conv2d_3": "x_2d_p.4",
      "bmn.x_2d_p.conv2d_4": "x_2d_p.6",
    };
    const torch = new Map(forward.weights.map((w) => [w.name, w]));
    const layers = model!.layers.filter((l) => l.getWeights().length > 0);
    expect(layers.map((l) => l.name).sort()).toEqual(Object.keys(names).sort());
    expect(torch.size).toBe(2 * layers.length);
    for (const layer of layers) {
      const kernel = torch.get(`${names[layer.name]}.weight`)!;
      layer.setWeights([channelsLastKernel(kernel.values, kernel.shape), tf.tensor(torch.get(`${names[layer.name]}.bias`)!.values)]);
    }
    const [start, end, confidence] = model!.predict(input) as tf.Tensor[];
    expect(maxDiff(start!.dataSync(), forward.start)).toBeLessThan(1e-5);
    expect(maxDiff(end!.dataSync(), forward.end)).toBeLessThan(1e-5);
    // PyTorch's map is [N, 2, D, T]; vnet's [N, D, T, 2].
    const theirs = tf.transpose(tf.tensor4d(forward.confidence, [n, 2, t, t]), [0, 2, 3, 1]).dataSync();
    expect(maxDiff(confidence!.dataSync(), theirs)).toBeLessThan(1e-5);
  });

  it("exports to ONNX with start, end and confidence outputs that ONNX Runtime computes as tfjs does", async () => {
    const exported = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
    expect(exported.diagnostics).toEqual([]);
    expect(exported.metadata["vnet.task"]).toBe("localization");
    const session = await ort.InferenceSession.create(exported.bytes!);
    expect([...session.outputNames]).toEqual(["start", "end", "confidence"]);
    const fed = await session.run({ features: new ort.Tensor("float32", input.dataSync() as Float32Array, [n, t, c]) });
    const ours = model!.predict(input) as tf.Tensor[];
    ["start", "end", "confidence"].forEach((name, i) => {
      expect(fed[name]!.dims).toEqual(ours[i]!.shape);
      expect(maxDiff(fed[name]!.data as Float32Array, ours[i]!.dataSync())).toBeLessThan(1e-5);
    });
    await session.release();
    expect(graph.nodes.some((node) => node.op === "boundary_matching")).toBe(true);
  });
});

describe("conv1d in both backends", () => {
  /** tfjs and ONNX Runtime outputs of a checked source's network on one random input. */
  async function bothBackends(
    source: string,
    shape: [number, number, number],
  ): Promise<{ names: readonly string[]; tfjs: tf.Tensor[]; onnx: ort.InferenceSession.OnnxValueMapType }> {
    const result = checkText(source);
    expect(result.diagnostics).toEqual([]);
    const network = result.networks[0]!;
    const { model, graph } = compileNetwork(network, { seed: 4 });
    const exported = exportOnnx(graph, { weights: WeightStore.ofModel(model!, "test"), sources: programSources(result) });
    expect(exported.diagnostics).toEqual([]);
    const session = await ort.InferenceSession.create(exported.bytes!);
    const x = tf.randomUniform(shape, -1, 1, "float32", 7);
    const onnx = await session.run({ features: new ort.Tensor("float32", x.dataSync() as Float32Array, shape) });
    const raw = model!.predict(x);
    const names = [...session.outputNames];
    await session.release();
    return { names, tfjs: Array.isArray(raw) ? raw : [raw], onnx };
  }

  it("'same', dilated and grouped conv1d and a boundary-matching map with fewer durations agree", async () => {
    const { names, tfjs, onnx } = await bothBackends(
      `network c {
        task = "localization"
        input features = sequence(length = 11, features = 6)
        x = features -> conv1d(6, kernel = 3, pad = "same", groups = 3) -> relu -> conv1d(4, kernel = 3, dilation = 2, pad = 2)
        start = x -> conv1d(1, kernel = 1) -> sigmoid -> flatten
        end = x -> conv1d(1, kernel = 1) -> sigmoid -> flatten
        map = x -> boundary_matching(num_samples = 2, num_samples_per_bin = 2, durations = 3) -> conv3d(2, kernel = [2, 1, 1]) -> frame(index = 0) -> sigmoid
        output start, end, map }`,
      [3, 11, 6],
    );
    expect(names).toEqual(["start", "end", "confidence"]);
    expect(tfjs[2]!.shape).toEqual([3, 3, 11, 2]);
    names.forEach((name, i) => expect(maxDiff(onnx[name]!.data as Float32Array, tfjs[i]!.dataSync())).toBeLessThan(1e-5));
  });

  it("strided conv1d over a sequence in a classifier agrees", async () => {
    const { names, tfjs, onnx } = await bothBackends(
      `network c { classes = 3
        input features = sequence(length = 10, features = 4)
        output features -> conv1d(8, kernel = 3, stride = 2) -> relu -> conv1d(8, kernel = 2, stride = 3, pad = 1, bias = false) -> global_avg_pool -> dense(classes) }`,
      [2, 10, 4],
    );
    expect(names).toEqual(["logits", "probabilities"]);
    expect(maxDiff(onnx.logits!.data as Float32Array, tfjs[0]!.dataSync())).toBeLessThan(1e-5);
  });
});
