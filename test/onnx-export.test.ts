/**
 * The ONNX exporter: every tiny spec and every operator equal their tfjs model in ONNX Runtime
 * (max |diff| <= 1e-4, trained-like weights with non-trivial batch-norm statistics), a dynamic
 * batch axis, inputs, outputs, initializer names and metadata, located diagnostics for what cannot
 * be exported. The full-size specs are in onnx-specs.test.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { trainedLikeWeights } from "../bench/lib/onnx-fixtures.js";
import { checkOnnxSupport, decodeModel, exportOnnx, ONNX_OUTPUTS, ONNX_UNSUPPORTED } from "../src/backends/onnx/index.js";
import { emitTfjs } from "../src/backends/tfjs/index.js";
import type { IrGraph } from "../src/ir/graph.js";
import { WEIGHTS_MISMATCH } from "../src/ir/weights.js";
import { selectBackend } from "../src/runtime/backend.js";
import { loadOnnxModel, runOnnx } from "../src/runtime/onnx.js";
import { verifyOnnxExport } from "../src/runtime/onnx-verify.js";
import { WeightStore } from "../src/weights/store.js";
import { checkSource, checkSpec, expectParity, exported, random, TOLERANCE } from "./onnx-helpers.js";
import { maxDiff } from "./helpers.js";

const TINY = path.resolve(__dirname, "../specs/tiny");
const vnetFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".vnet"))
    .sort();

beforeAll(async () => {
  // The pure-JavaScript backend: the same numbers on every machine.
  await selectBackend({ force: "cpu" });
});

describe("every tiny spec: ONNX Runtime equals tfjs (max |diff| <= 1e-4)", () => {
  // Detectors also read boxes: test/backends/detector.test.ts holds them to the same tolerance.
  for (const file of vnetFiles(TINY).filter((f) => checkSpec(path.join(TINY, f)).network.task !== "detection")) {
    it(file, async () => {
      await expectParity(checkSpec(path.join(TINY, file)));
    });
  }
});

// Operators, arguments and layouts the tiny specs do not reach.
const OPERATORS = `
network image_ops {
  classes = 3
  input image = image(size = 11, channels = 4)
  x = image -> normalize(mean = [0.5], std = [0.25], scale = 1)
    -> conv2d(6, kernel = 3, stride = 2, pad = 1, groups = 2) as grouped -> tanh
    -> lrn(size = 4, alpha = 0.01, beta = 0.75, k = 2) as even_lrn
    -> conv2d(6, kernel = 3, stride = 2, pad = 2, dilation = 2) as strided_dilated -> sigmoid
    -> maxpool2d(kernel = 3, stride = 1, pad = "same") as max_same
    -> avgpool2d(kernel = 2, stride = 2, pad = 1, ceil = true) as avg_ceil
    -> global_max_pool -> dense(classes) -> softmax
  output x
}
network clip_ops {
  classes = 3
  input video = clip(frames = 6, size = 8, channels = 2)
  a = video -> conv3d(4, kernel = 3, pad = 2, dilation = 2) as dilated -> relu
    -> lrn(size = 3, alpha = 0.02, beta = 0.5, k = 1) as clip_lrn
  b = a -> subsample(stride = 2, offset = 1) -> global_avg_pool
  c = a -> frame(index = 2) -> global_avg_pool
  seq = [video -> subsample(frames = 3), a -> subsample(stride = 2) -> conv3d(2, kernel = 1)] -> concat(axis = "time")
  s = seq -> per_frame(freeze = true) { conv2d(3, kernel = 3) -> bn -> relu -> global_avg_pool } -> gru(5, sequences = "all")
    -> dense(4) as per_step -> lstm(3) as last_step
  t = seq -> stack_frames -> conv2d(3, kernel = 1) -> flatten -> dropout(0.3) -> dense(4)
  u = a -> maxpool3d(kernel = 3, stride = 2, pad = 1, ceil = true) as max_ceil -> flatten
  v = a -> avgpool3d(kernel = 2, stride = [1, 2, 2], pad = "same") as avg_same -> global_avg_pool
  output [b, c, s, t, u, v] -> concat -> dense(classes)
}
network recurrent_ops {
  classes = 3
  input video = clip(frames = 4, size = 6, channels = 2)
  x = video -> conv_gru(3, kernel = 3, sequences = "all") -> conv_lstm(4, kernel = [1, 3], sequences = "all") -> temporal_pool(mode = "max")
  y = video -> conv_lstm(2, kernel = 3) -> global_avg_pool
  z = video -> conv_gru(2, kernel = 3) -> global_max_pool
  output [x -> flatten, y, z] -> concat -> dense(classes)
}
network fusion_ops {
  classes = 3
  input video = clip(frames = 8, size = 8, channels = 2)
  slow = video -> subsample(stride = 4) -> conv3d(8, kernel = 1) as slow_conv
  fast = video -> conv3d(4, kernel = [3, 1, 1], pad = [1, 0, 0]) as fast_conv
  fused = [slow, fast] -> lateral(alpha = 4, ratio = 2, kernel = 3, fuse = "sum")
    -> nonlocal(mode = "dot", inner = 4, subsample = false) as nl_dot
    -> nonlocal(mode = "gaussian", inner = 2) as nl_gauss
    -> nonlocal(inner = 3) as nl_embedded
  concatenated = [slow, fast] -> lateral(alpha = 4, ratio = 2, kernel = 3) -> global_avg_pool
  output [fused -> global_avg_pool -> dense(classes), concatenated -> dense(classes)] -> score_fusion(average = "logits", weights = [2, 1])
}
`;

describe("operators outside the tiny specs: ONNX Runtime equals tfjs", () => {
  const networks = checkSource(OPERATORS);
  for (const name of ["image_ops", "clip_ops", "recurrent_ops", "fusion_ops"]) {
    it(name, async () => {
      await expectParity(networks.get(name)!);
    });
  }

  it("a network ending in a softmax gives probabilities, and its logits are the softmax's input", async () => {
    const { result, bytes } = exported(networks.get("image_ops")!);
    expect(result.metadata["vnet.model_output"]).toBe("probabilities");
    const model = await loadOnnxModel(bytes);
    const scores = await runOnnx(model, { image: random([2, 11, 11, 4], 1) });
    const softmax = tf.softmax(tf.tensor(scores.logits.data, [2, 3])).dataSync();
    expect(maxDiff(softmax, scores.probabilities.data)).toBeLessThan(1e-6);
  });
});

describe("the exported model", () => {
  it("has a dynamic batch axis: batches of 1 and 3 equal tfjs", async () => {
    const spec = checkSpec(path.join(TINY, "tiny_slowfast.vnet"));
    const { model, bytes } = exported(spec);
    const report = await verifyOnnxExport(spec.graph, model, bytes, { batches: [1, 3], sample: false });
    expect(report.checks.map((c) => c.batch)).toEqual([1, 3]);
    for (const check of report.checks) expect(check.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
    model.dispose();
  });

  it("reads the raw clip channels-last; streams it cannot compute are inputs of their own", async () => {
    const { result, bytes } = exported(checkSpec(path.join(TINY, "tiny_two_stream.vnet")));
    const proto = decodeModel(bytes);
    const graph = proto.graph!;
    const dims = (v: NonNullable<typeof graph.input>[number]) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input!.map((i) => [i.name, dims(i)])).toEqual([
      ["video", ["N", 5, 32, 32, 3]],
      ["flow", ["N", 32, 32, 8]],
    ]);
    expect(graph.output!.map((o) => [o.name, dims(o)])).toEqual([
      ["logits", ["N", 5]],
      ["probabilities", ["N", 5]],
    ]);
    expect(proto.opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([["", 17]]);
    // Score fusion averages probabilities; the logits are their logarithm.
    expect(result.metadata["vnet.model_output"]).toBe("probabilities");
    const inputs = JSON.parse(result.metadata["vnet.inputs"]!);
    expect(inputs[1]).toMatchObject({ name: "flow", kind: "stream", from: "video", pipeline: [{ op: "optical_flow" }] });
    const onnx = await loadOnnxModel(bytes);
    const scores = await runOnnx(onnx, { video: random([1, 5, 32, 32, 3], 2), flow: random([1, 32, 32, 8], 3) });
    expect(maxDiff(scores.logits.data.map(Math.exp), scores.probabilities.data)).toBeLessThan(1e-6);
    // Only the data pipeline's streams are inputs: the rgb stream's frame() and normalize() are in the graph.
    expect(graph.node!.some((n) => n.opType === "Gather" && n.name!.startsWith("rgb"))).toBe(true);
  });

  it("names initializers after vnet's hierarchical weights, in ONNX layouts", () => {
    const spec = checkSpec(path.join(TINY, "tiny_cnn_lstm.vnet"));
    const { bytes } = exported(spec);
    const initializers = new Map(decodeModel(bytes).graph!.initializer!.map((t) => [t.name!, t.dims!.map(Number)]));
    const declared = spec.graph.nodes.flatMap((n) => n.weights ?? []);
    for (const w of declared) expect(initializers.has(w.name), w.name).toBe(true);
    // Everything else is a constant under a node's name: `node/part`.
    expect([...initializers.keys()].filter((n) => !declared.some((w) => w.name === n)).every((n) => n.includes("/"))).toBe(true);
    expect(initializers.get("cnn.conv1.kernel")).toEqual([16, 3, 5, 5]);
    expect(initializers.get("lstm1.kernel")).toEqual([1, 128, 64]);
    expect(initializers.get("lstm1.recurrent_kernel")).toEqual([1, 128, 32]);
    expect(initializers.get("lstm1.bias")).toEqual([1, 256]);
    expect(initializers.get("fc8.kernel")).toEqual([32, 5]);
  });

  it("a model exported elsewhere (PyTorch, no vnet metadata) is refused with the way it runs in vnet", async () => {
    const torchExport = path.join(__dirname, "fixtures/onnx/tiny_r3d_defaults.onnx");
    await expect(loadOnnxModel(torchExport)).rejects.toThrow(/was not exported by vnet \(no vnet\.inputs.*vnet weights import <model\.onnx> --spec <spec>/);
  });

  it("carries the test protocol, class names and the source hash in metadata_props", () => {
    const text = `network labelled {
  classes = 3
  class_names = ["walk", "run", "jump"]
  input video = clip(frames = 4, size = 8)
  stream rgb = video -> subsample(stride = 2) -> normalize(mean = [0.5], std = [0.25])
  output rgb -> conv3d(4, kernel = 1) -> global_avg_pool -> dense(classes)
  sampling {
    train { stride = 2, crop = 8 }
    test { clips = 5, crops = "three", average = "logits", resize = 10 }
  }
}`;
    const { graph, sources } = checkSource(text).get("labelled")!;
    const result = exportOnnx(graph, { weights: trainedLikeWeights(1), sources });
    const props = Object.fromEntries(decodeModel(result.bytes!).metadataProps.map((p) => [p.key, p.value]));
    expect(props).toEqual(result.metadata);
    expect(props).toMatchObject({
      "vnet.network": "labelled",
      "vnet.frames": "4",
      "vnet.stride": "2",
      "vnet.test.clips": "5",
      "vnet.test.crops": "three",
      "vnet.test.average": "logits",
      "vnet.test.resize": "10",
      "vnet.classes": "3",
      "vnet.class_names": '["walk","run","jump"]',
      "vnet.model_output": "logits",
      "vnet.source_sha256": createHash("sha256").update(text).digest("hex"),
      "vnet.normalize": JSON.stringify({ rgb: { mean: [0.5], std: [0.25], scale: 255, in_model: true } }),
    });
    expect(props["vnet.input_layout"]).toMatch(/^channels-last/);
    const protocol = JSON.parse(props["vnet.protocol"]!);
    expect(protocol.sampling.train).toMatchObject({ stride: 2, crop: 8 });
    // The sampling protocol itself, as the data pipeline samples by it (src/semantics/protocol.ts).
    expect(protocol.protocol).toEqual({
      frames: 4,
      height: 8,
      width: 8,
      channels: 3,
      train: { stride: 2, choice: "random", jitter: 0, cropMode: "random", flip: true },
      test: { clips: 5, crops: "three", average: "logits", resize: 10 },
      shortVideos: "loop",
    });
    expect(protocol.inputs).toEqual([{ name: "video", kind: "raw", shape: ["N", 4, 8, 8, 3], layout: "NTHWC", range: [0, 1] }]);
  });
});

describe("what cannot be exported is a located diagnostic", () => {
  const text = `network n {
  classes = 2
  input image = image(size = 8)
  a = image -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes) as first
  output a, image -> global_max_pool -> dense(classes) as second
}`;
  const located = (d: { range: { start: number; end: number } }) => text.slice(d.range.start, d.range.end);

  it("an operator the exporter has no lowering for, at the layer's source range", () => {
    const graph = checkSource(text).get("n")!.graph;
    // Every operator the checker accepts lowers today; a stream-only one stands in for a gap.
    const foreign: IrGraph = { ...graph, nodes: graph.nodes.map((n) => (n.op === "conv2d" ? { ...n, op: "optical_flow" } : n)) };
    const diagnostics = checkOnnxSupport(foreign);
    expect(diagnostics.map((d) => [d.code, d.message, located(d)])).toEqual([
      [ONNX_UNSUPPORTED, "cannot export layer `conv2d` to ONNX: the ONNX exporter has no lowering for `optical_flow`", "conv2d(4, kernel = 3)"],
    ]);
  });

  it("a network with two outputs, at the second", () => {
    const result = exportOnnx(checkSource(text).get("n")!.graph, { weights: trainedLikeWeights(1), sources: checkSource(text).get("n")!.sources });
    expect(result.bytes).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, located(d)])).toEqual([[ONNX_OUTPUTS, "dense(classes) as second"]]);
  });

  it("weights of another spec, at the layer whose weight does not fit", () => {
    const networks = checkSource(`network wide {
  classes = 2
  input image = image(size = 8)
  output image -> conv2d(8, kernel = 3) as conv -> global_avg_pool -> dense(classes) as fc
}
network narrow {
  classes = 2
  input image = image(size = 8)
  output image -> conv2d(4, kernel = 3) as conv -> global_avg_pool -> dense(classes) as fc
}`);
    const { model } = emitTfjs(networks.get("narrow")!.graph, { zeroInit: true });
    const result = exportOnnx(networks.get("wide")!.graph, {
      weights: WeightStore.ofModel(model!, "checkpoint of narrow"),
      sources: networks.get("wide")!.sources,
    });
    expect(result.bytes).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      [WEIGHTS_MISMATCH, "cannot export weight `conv.kernel` of layer `conv`: checkpoint of narrow has it as [3, 3, 3, 4], the spec declares [3, 3, 3, 8]"],
      [WEIGHTS_MISMATCH, "cannot export weight `conv.bias` of layer `conv`: checkpoint of narrow has it as [4], the spec declares [8]"],
      [WEIGHTS_MISMATCH, "cannot export weight `fc.kernel` of layer `fc`: checkpoint of narrow has it as [4, 2], the spec declares [8, 2]"],
    ]);
    model!.dispose();
  });
});
