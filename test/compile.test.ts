/**
 * The compiler's back half: IR building and passes (verified after every pass), the tfjs backend
 * (every tiny spec runs and survives save/load bit for bit; every full spec builds with the
 * checker's parameter count and the IR's weight names), and numerical parity of the custom layers
 * with hand computations in PyTorch's conventions.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitTfjs, TFJS_UNSUPPORTED } from "../src/backends/tfjs/index.js";
import { storedWeightName } from "../src/ir/weights.js";
import { VnetBatchNorm } from "../src/backends/tfjs/layers/batch-norm.js";
import { VnetConvGru2d, VnetConvLstm2d } from "../src/backends/tfjs/layers/conv-recurrent.js";
import { conv2dFilterGradAsConv } from "../src/backends/tfjs/layers/conv.js";
import { buildIr } from "../src/ir/build.js";
import type { IrGraph } from "../src/ir/graph.js";
import { PIPELINE, runPipeline } from "../src/ir/pipeline.js";
import { subsampleIndices } from "../src/ops/temporal.js";
import { verifyIr } from "../src/ir/verify.js";
import { selectBackend } from "../src/runtime/backend.js";
import { ensureFileRouter, loadModel, saveModel } from "../src/runtime/model-io.js";
import { main } from "../src/cli/main.js";
import { checkFiles } from "../src/semantics/check.js";
import { totals, type CheckedNetwork } from "../src/semantics/network.js";
import { checkText, compileNetwork } from "./helpers.js";

const SPECS = path.resolve(__dirname, "../specs");
const TINY = path.join(SPECS, "tiny");
const vnetFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".vnet"))
    .sort();

let tempDir: string;
beforeAll(async () => {
  // The pure-JavaScript backend: the same numbers on every machine.
  await selectBackend({ force: "cpu" });
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-compile-"));
});
afterAll(() => fs.rmSync(tempDir, { recursive: true, force: true }));

/** Checks a spec file, expecting no errors (warnings are the checker's business) and one network. */
function checkSpec(file: string): CheckedNetwork {
  const result = checkFiles([file]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect(result.networks).toHaveLength(1);
  return result.networks[0]!;
}

/** Checks in-memory spec text and returns its networks by name. */
function checkSource(text: string): Map<string, CheckedNetwork> {
  const result = checkText(text);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return new Map(result.networks.map((n) => [n.name, n]));
}

/** Runs the pipeline pass by pass, verifying the IR after each and that no pass mutates its input. */
function lowerVerified(network: CheckedNetwork): IrGraph {
  let graph = buildIr(network);
  expect(verifyIr(graph)).toEqual([]);
  for (const pass of PIPELINE) {
    const before = JSON.stringify(graph);
    const next = pass.run(graph);
    expect(JSON.stringify(graph), `${pass.name} changed its input`).toBe(before);
    expect(Object.isFrozen(next) && Object.isFrozen(next.nodes[0])).toBe(true);
    expect(verifyIr(next), `after ${pass.name}`).toEqual([]);
    graph = next;
  }
  return graph;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const trainableCount = (model: tf.LayersModel) => model.trainableWeights.reduce((sum, w) => sum + size(w.shape as number[]), 0);
const modelWeightNames = (model: tf.LayersModel) => model.weights.map((w) => w.originalName).sort();
const declaredWeightNames = (graph: IrGraph) =>
  graph.nodes
    .flatMap((n) => n.weights ?? [])
    .map(storedWeightName)
    .sort();

/** A deterministic uniform [-1, 1) generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const next = random(seed);
  return tf.tensor(Float32Array.from({ length: size(shape) }, next), shape);
}

function predict(model: tf.LayersModel, inputs: tf.Tensor[]): tf.Tensor {
  return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
}

/** Every output of a model, in the graph's output order. */
function predictAll(model: tf.LayersModel, inputs: tf.Tensor[]): tf.Tensor[] {
  const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
  return Array.isArray(out) ? out : [out];
}

describe("every tiny spec compiles, runs, and round-trips through save/load", () => {
  for (const file of vnetFiles(TINY)) {
    it(file, async () => {
      const network = checkSpec(path.join(TINY, file));
      const graph = lowerVerified(network);
      const { model, diagnostics } = emitTfjs(graph, { seed: 7 });
      expect(diagnostics).toEqual([]);
      expect(trainableCount(model!)).toBe(totals(network).trainable);
      expect(modelWeightNames(model!)).toEqual(declaredWeightNames(graph));
      // A detector's boxes() input: two boxes [batch index, x1, y1, x2, y2], one per clip.
      const boxes = (name: string) => network.layers.find((l) => l.name === name && l.op === "input")?.args.kind === "boxes";
      const inputs = graph.inputs.map((input, i) =>
        boxes(input.name)
          ? tf.tensor2d([
              [0, 1, 2, 12, 14],
              [1, 0, 0, 30, 30],
            ])
          : randomTensor([2, ...input.shape], 100 + i),
      );
      // Every output has its IR node's shape ([2, classes] for a classifier; a localizer has three).
      const outputs = predictAll(model!, inputs);
      expect(outputs.map((o) => o.shape)).toEqual(graph.outputs.map((id) => [2, ...graph.nodes.find((n) => n.id === id)!.shape]));
      if (network.task === "classification") expect(outputs[0]!.shape).toEqual([2, network.classes]);
      const values = outputs.map((o) => Array.from(o.dataSync()));
      expect(values.flat().every(Number.isFinite)).toBe(true);

      const dir = path.join(tempDir, network.name);
      await saveModel(model!, dir);
      const loaded = await loadModel(dir);
      expect(modelWeightNames(loaded)).toEqual(modelWeightNames(model!));
      const reloaded = predictAll(loaded, inputs);
      expect(reloaded.map((o) => Array.from(o.dataSync()))).toEqual(values);
      model!.dispose();
      loaded.dispose();
      tf.dispose([...outputs, ...reloaded, ...inputs]);
    });
  }
});

describe("every full-size spec builds with the checker's parameter count (no forward pass)", () => {
  for (const file of vnetFiles(SPECS)) {
    it(file, () => {
      const network = checkSpec(path.join(SPECS, file));
      const graph = lowerVerified(network);
      // Zero initialisation makes building a 100M-parameter model take milliseconds.
      const { model, diagnostics } = emitTfjs(graph, { zeroInit: true });
      expect(diagnostics).toEqual([]);
      expect(trainableCount(model!)).toBe(totals(network).trainable);
      expect(modelWeightNames(model!)).toEqual(declaredWeightNames(graph));
      model!.dispose();
    });
  }
});

// Operators and arguments the tiny specs do not use.
const OP_COVERAGE = `
network image_ops {
  classes = 3
  input image = image(size = 9, channels = 4)
  x = image -> normalize(mean = [0.5], std = [0.25], scale = 1)
    -> conv2d(6, kernel = 3, stride = 2, pad = 1, groups = 2) as grouped -> tanh
    -> maxpool2d(kernel = 3, stride = 1, pad = 1) as max
    -> avgpool2d(kernel = 2, stride = 2, pad = 1, ceil = true) as avg
    -> global_max_pool -> dense(classes) -> softmax
  output x
}
network clip_ops {
  classes = 3
  input video = clip(frames = 6, size = 8, channels = 2)
  a = video -> conv3d(4, kernel = 3, pad = 2, dilation = 2) as dilated -> sigmoid
  b = a -> subsample(stride = 2, offset = 1) -> global_avg_pool
  c = a -> frame(index = 2) -> global_avg_pool
  seq = [video -> subsample(frames = 3), a -> subsample(stride = 2) -> conv3d(2, kernel = 1)] -> concat(axis = "time")
  s = seq -> per_frame(freeze = true) { conv2d(3, kernel = 3) -> bn -> relu -> global_avg_pool } -> gru(5, sequences = "all") -> temporal_pool(mode = "max")
  output [b, c, s] -> concat -> dense(classes)
}
network recurrent_ops {
  classes = 3
  input video = clip(frames = 4, size = 6, channels = 2)
  x = video -> conv_gru(3, kernel = 3, sequences = "all") -> conv_gru(4, kernel = [1, 3]) -> flatten -> dense(classes)
  output x
}
network fusion_ops {
  classes = 3
  input video = clip(frames = 8, size = 8, channels = 2)
  slow = video -> subsample(stride = 4) -> conv3d(8, kernel = 1) as slow_conv
  fast = video -> conv3d(4, kernel = [3, 1, 1], pad = [1, 0, 0]) as fast_conv
  fused = [slow, fast] -> lateral(alpha = 4, ratio = 2, kernel = 3, fuse = "sum")
    -> nonlocal(mode = "dot", inner = 4, subsample = false) as nl_dot
    -> nonlocal(mode = "gaussian", inner = 2) as nl_gauss
  output fused -> global_avg_pool -> dense(classes)
}
`;

describe("operators outside the tiny specs compile, run and round-trip", () => {
  const networks = checkSource(OP_COVERAGE);
  for (const name of ["image_ops", "clip_ops", "recurrent_ops", "fusion_ops"]) {
    it(name, async () => {
      const network = networks.get(name)!;
      const graph = lowerVerified(network);
      const { model } = emitTfjs(graph, { seed: 3 });
      expect(trainableCount(model!)).toBe(totals(network).trainable);
      expect(modelWeightNames(model!)).toEqual(declaredWeightNames(graph));
      const inputs = graph.inputs.map((input) => randomTensor([2, ...input.shape], 5));
      const values = await predict(model!, inputs).data();
      expect(values.every(Number.isFinite)).toBe(true);
      const dir = path.join(tempDir, name);
      await saveModel(model!, dir);
      expect(Array.from(await predict(await loadModel(dir), inputs).data())).toEqual(Array.from(values));
    });
  }

  it("gradients reach every trainable weight through the custom layers", () => {
    for (const name of ["image_ops", "clip_ops", "recurrent_ops", "fusion_ops"]) {
      const { model, graph } = compileNetwork(networks.get(name)!, { seed: 4 });
      const inputs = graph.inputs.map((input) => randomTensor([2, ...input.shape], 6));
      const target = tf.oneHot([0, 2], 3);
      const variables = model!.trainableWeights.map((w) => w.read() as tf.Variable);
      const loss = () =>
        tf.losses.softmaxCrossEntropy(target, model!.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: true }) as tf.Tensor) as tf.Scalar;
      const { grads } = tf.variableGrads(loss, variables);
      const trainable = model!.trainableWeights.map((w) => w.originalName);
      // A non-local block's batch norm starts with a zero scale, which stops the gradient into the block.
      const blocked = /^nl_\w+\.(theta|phi|g|out)\//;
      for (const weight of model!.trainableWeights) {
        const grad = grads[(weight.read() as tf.Variable).name];
        expect(grad, weight.originalName).toBeDefined();
        const values = grad!.dataSync();
        expect(values.every(Number.isFinite), weight.originalName).toBe(true);
        if (!blocked.test(weight.originalName))
          expect(
            values.some((v) => v !== 0),
            `${name}: ${weight.originalName}`,
          ).toBe(true);
      }
      expect(Object.keys(grads)).toHaveLength(trainable.length);
      model!.dispose();
      tf.dispose([...inputs, target, ...Object.values(grads)]);
    }
  });

  it("initial weights follow the seed and the weight names, not the build order", async () => {
    const network = networks.get("fusion_ops")!;
    const weightsOf = async (seed: number) =>
      Promise.all(
        compileNetwork(network, { seed })
          .model!.getWeights()
          .map(async (w) => Array.from(await w.data())),
      );
    const first = await weightsOf(1);
    expect(await weightsOf(1)).toEqual(first);
    expect(await weightsOf(2)).not.toEqual(first);
  });

  it("a frozen per_frame body has no trainable weights and its batch norm uses moving statistics", () => {
    const network = networks.get("clip_ops")!;
    const { model, graph } = compileNetwork(network);
    const frozen = graph.nodes.filter((n) => n.name.startsWith("per_frame."));
    expect(frozen.length).toBeGreaterThan(0);
    for (const node of frozen) {
      if (node.op === "fold_time" || node.op === "unfold_time") continue;
      expect(model!.getLayer(node.name).trainable).toBe(false);
    }
    expect(totals(network).frozen).toBe(3 * 3 * 2 * 3 + 3 + 2 * 3);
    expect(model!.trainableWeights.some((w) => w.originalName.startsWith("per_frame."))).toBe(false);
  });

  it("a `training { freeze }` glob can freeze part of a per_frame body: the IR's counts and the tfjs layers follow", () => {
    const network = checkText(`network partly_frozen {
  classes = 3
  input video = clip(frames = 2, size = 8)
  x = video -> per_frame { conv2d(4, kernel = 3) as conv -> bn as bn -> relu -> global_avg_pool } as cnn
  output x -> temporal_pool(mode = "mean") -> dense(classes) as fc
  training { freeze = ["cnn.conv"] }
}`).networks[0]!;
    expect(totals(network)).toMatchObject({ trainable: 8 + 15, frozen: 3 * 3 * 3 * 4 + 4 });
    const { model, graph } = compileNetwork(network);
    expect(graph.expected).toEqual({ trainable: 8 + 15, frozen: 3 * 3 * 3 * 4 + 4 });
    expect(model!.getLayer("cnn.conv").trainable).toBe(false);
    expect(model!.getLayer("cnn.bn").trainable).toBe(true);
  });

  it("saves and loads through file:// URLs without tfjs-node", async () => {
    ensureFileRouter();
    const { model, graph } = compileNetwork(networks.get("image_ops")!);
    const dir = path.join(tempDir, "file-url");
    await model!.save(`file://${dir}`);
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    const x = randomTensor([1, ...graph.inputs[0]!.shape], 9);
    expect(Array.from(await predict(loaded, [x]).data())).toEqual(Array.from(await predict(model!, [x]).data()));
  });
});

describe("vnet compile", () => {
  it("writes a model that plain tfjs loads, and dumps the IR", async () => {
    const lines: string[] = [];
    const dir = path.join(tempDir, "cli");
    const code = await main(["compile", path.join(TINY, "tiny_r3d.vnet"), "--target", "tfjs", "-o", dir, "--backend", "cpu", "--seed", "3"], {
      out: (s) => lines.push(s),
      err: (s) => lines.push(s),
    });
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^backend: cpu/);
    // The model reads the raw clip; the stream's normalisation is a layer of its own.
    expect(lines.join("\n")).toContain("compiled tiny_r3d: 73 layers, 50,521 trainable parameters; inputs video [N, 8, 32, 32, 3]");
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")).modelTopology, undefined, undefined),
    );
    expect(loaded.layers).toHaveLength(73);
    expect(loaded.getLayer("rgb.normalize").getClassName()).toBe("VnetNormalize");
    expect(trainableCount(await loadModel(dir))).toBe(50_521);

    const dump: string[] = [];
    expect(await main(["compile", path.join(TINY, "tiny_r3d.vnet"), "--dump-ir"], { out: (s) => dump.push(s) })).toBe(0);
    expect(dump.join("\n")).toContain('#2 stem = conv3d(filters=4, kernel=[3,7,7], stride=[1,2,2], pad="valid"');
  });

  it("reports usage errors with exit code 2", async () => {
    const err: string[] = [];
    expect(await main(["compile", path.join(TINY, "tiny_r3d.vnet")], { out: () => {}, err: (s) => err.push(s) })).toBe(2);
    expect(await main(["compile", path.join(TINY, "tiny_r3d.vnet"), "--target", "caffe", "-o", tempDir], { out: () => {}, err: (s) => err.push(s) })).toBe(2);
    expect(await main(["compile", path.join(TINY, "tiny_r3d.vnet"), "--target", "onnx", "-o", tempDir], { out: () => {}, err: (s) => err.push(s) })).toBe(2);
    expect(err).toEqual([
      "vnet: vnet compile needs an output directory: -o <dir> (or --dump-ir)",
      "vnet: unknown --target caffe (tfjs, onnx)",
      `${tempDir}  error VN111  cannot write -o ${tempDir}: it is a directory; this output is one file`,
    ]);
  });
});

describe("IR", () => {
  it("weights have deterministic hierarchical names", () => {
    const graph = lowerVerified(checkSpec(path.join(SPECS, "r3d_18.vnet")));
    const names = graph.nodes.flatMap((n) => n.weights ?? []).map((w) => w.name);
    expect(names).toContain("layer2.0.conv1.conv3d.kernel");
    expect(names).toContain("layer2.0.downsample.moving_variance");
    expect(names).toContain("fc.bias");
    expect(lowerVerified(checkSpec(path.join(SPECS, "r3d_18.vnet")))).toEqual(graph);
  });

  it("composites expand into named primitives with the catalogue's parameter split", () => {
    const graph = lowerVerified(checkSpec(path.join(TINY, "tiny_r2plus1d.vnet")));
    const parts = graph.nodes
      .filter((n) => n.name.startsWith("layer1.0.conv1.conv2plus1d."))
      .map((n) => `${n.name.slice("layer1.0.conv1.conv2plus1d.".length)} ${n.op}`);
    expect(parts).toEqual(["spatial conv3d", "spatial_bn bn", "spatial_relu relu", "temporal conv3d"]);
    expect(graph.nodes.find((n) => n.name === "layer1.0.conv1.conv2plus1d.spatial")!.args.kernel).toEqual([1, 3, 3]);
    expect(graph.nodes.find((n) => n.name === "layer1.0.conv1.conv2plus1d.temporal")!.args.kernel).toEqual([3, 1, 1]);
    const nonlocal = lowerVerified(checkSpec(path.join(TINY, "tiny_nonlocal.vnet")));
    const block = nonlocal.nodes.filter((n) => n.name.startsWith("res3.1.nonlocal.")).map((n) => n.name.slice("res3.1.nonlocal.".length));
    expect(block).toEqual(["pool", "theta", "phi", "g", "attention", "out", "bn", "residual"]);
  });

  it("padding becomes same, valid, a zero or -inf pad node, or explicit average padding", () => {
    const graph = lowerVerified(checkSpec(path.join(TINY, "tiny_r3d.vnet")));
    const strided = graph.nodes.find((n) => n.name === "layer2.0.conv1.conv3d")!;
    // PyTorch pads 1 on both sides at stride 2; TensorFlow's "same" would pad 0 before, 1 after.
    expect(strided.args.pad).toBe("valid");
    const pad = graph.nodes.find((n) => n.id === strided.inputs[0])!;
    expect(pad.op).toBe("pad");
    expect(pad.args).toEqual({ before: [1, 1, 1], after: [1, 1, 1], value: 0 });
    expect(graph.nodes.find((n) => n.name === "layer1.0.conv1.conv3d")!.args.pad).toBe("same");
    const pools = lowerVerified(checkSpec(path.join(TINY, "tiny_nonlocal.vnet"))).nodes.filter((n) => n.op === "pad" && n.args.value === "-inf");
    expect(pools.map((p) => p.name)).toContain("stem.pool.pad");
  });

  it("the verifier reports broken invariants", () => {
    const graph = lowerVerified(checkSpec(path.join(TINY, "tiny_r3d.vnet")));
    const [first, second, ...rest] = graph.nodes;
    const broken: IrGraph = { ...graph, nodes: [first!, { ...second!, shape: [1, 2, 3, 4] }, { ...rest[0]!, name: second!.name }, ...rest.slice(1)] };
    const problems = verifyIr(broken);
    expect(problems.some((p) => p.includes("but its inputs give"))).toBe(true);
    expect(problems.some((p) => p.includes("duplicate name"))).toBe(true);
    const unlowered = { ...buildIr(checkSpec(path.join(TINY, "tiny_r2plus1d.vnet"))), passes: ["expand-composites"] };
    expect(verifyIr(unlowered).some((p) => p.includes("should have been removed by expand-composites"))).toBe(true);
    expect(() => runPipeline({ ...graph, outputs: [99999] })).toThrow(/malformed/);
  });

  it("layers no output depends on are pruned, and the counts follow", () => {
    const network = checkText(`network n {
  classes = 2
  input image = image(size = 8)
  unused = image -> conv2d(4, kernel = 3) as lonely
  output image -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes)
}`).networks[0]!;
    const graph = lowerVerified(network);
    expect(graph.nodes.map((n) => n.name)).not.toContain("lonely");
    expect(graph.expected.trainable).toBe(totals(network).trainable - (3 * 3 * 3 * 4 + 4));
    const { model } = emitTfjs(graph);
    expect(trainableCount(model!)).toBe(graph.expected.trainable);
  });

  it("a weight too large to allocate (a spec that checks) is refused with a located VN070 before any allocation", () => {
    const network = checkText(
      "network n {\n  classes = 5\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(100000) -> dense(100000) -> dense(5)\n}\n",
    ).networks[0]!;
    const { model, diagnostics } = emitTfjs(lowerVerified(network));
    expect(model).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual([TFJS_UNSUPPORTED]);
    expect(diagnostics[0]!.message).toMatch(/a weight of `dense_2` holds 1\.00e\+10 values, more than one array holds/);
    expect(diagnostics[0]!.hint).toMatch(/vnet summary/);
  });

  it("streams are nodes: the graph reads the raw clip, and only what the data pipeline computes (optical flow) besides", () => {
    const graph = lowerVerified(checkSpec(path.join(TINY, "tiny_two_stream.vnet")));
    expect(graph.inputs.map((i) => [i.name, i.kind, i.shape])).toEqual([
      ["video", "raw", [5, 32, 32, 3]],
      ["flow", "stream", [32, 32, 8]],
    ]);
    expect(graph.inputs[1]).toMatchObject({ from: "video", pipeline: [{ op: "optical_flow", args: { pairs: 4 } }] });
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const rgb = graph.modelInputs.find((i) => i.name === "rgb")!;
    // The spatial stream: frame() then normalize() of the raw clip, a stream's normalisation of pixels.
    const normalize = byId.get(rgb.node)!;
    expect([normalize.op, normalize.args.stream]).toEqual(["normalize", true]);
    expect(byId.get(normalize.inputs[0]!)!.op).toBe("frame");
    expect(graph.modelInputs.map((i) => i.name)).toEqual(["rgb", "flow"]);
    // The tfjs model takes the same inputs as the exported ONNX model, in the same order.
    const { model } = emitTfjs(graph, { zeroInit: true });
    expect(model!.inputs.map((i) => [i.sourceLayer.name, i.shape])).toEqual([
      ["video", [null, 5, 32, 32, 3]],
      ["flow", [null, 32, 32, 8]],
    ]);
    model!.dispose();
    // A subsampled stream of SlowFast: both pathways from one raw clip, in the graph.
    const slowfast = lowerVerified(checkSpec(path.join(TINY, "tiny_slowfast.vnet")));
    expect(slowfast.inputs.map((i) => i.kind)).toEqual(["raw"]);
    expect(slowfast.nodes.filter((n) => n.op === "subsample").length).toBeGreaterThan(0);
    expect(slowfast.protocol!.frames).toBe(slowfast.inputs[0]!.shape[0]);
  });

  it("subsample picks PySlowFast's frames", () => {
    expect(subsampleIndices(32, { frames: 4 })).toEqual([0, 10, 20, 31]);
    expect(subsampleIndices(16, { frames: 2 })).toEqual([0, 15]);
    expect(subsampleIndices(16, { stride: 15, offset: 0 })).toEqual([0, 15]);
    expect(subsampleIndices(6, { stride: 2, offset: 1 })).toEqual([1, 3, 5]);
  });
});

describe("unsupported operators are located diagnostics, not crashes", () => {
  it("a layer name tfjs refuses", () => {
    const text = `network n {
  classes = 2
  input image = image(size = 8)
  output image -> conv2d(4, kernel = 3) as _conv -> global_avg_pool -> dense(classes)
}`;
    const { model, diagnostics } = compileNetwork(checkSource(text).get("n")!);
    expect(model).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.message, d.hint, text.slice(d.range.start, d.range.end)])).toEqual([
      [
        TFJS_UNSUPPORTED,
        "cannot compile `_conv` to tfjs: tfjs names must start with a letter or a digit",
        "rename `_conv` to `conv`",
        "conv2d(4, kernel = 3) as _conv",
      ],
    ]);
  });

  it("an operator the tfjs backend has no lowering for, at the layer's source range", () => {
    const text = `network n {
  classes = 2
  input image = image(size = 8)
  output image -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes)
}`;
    const graph = lowerVerified(checkSource(text).get("n")!);
    // Every operator the checker accepts in a model lowers today; a stream-only one stands in for a gap.
    const foreign: IrGraph = { ...graph, nodes: graph.nodes.map((n) => (n.op === "conv2d" ? { ...n, op: "optical_flow" } : n)) };
    const { model, diagnostics } = emitTfjs(foreign);
    expect(model).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.code).toBe(TFJS_UNSUPPORTED);
    expect(diagnostics[0]!.message).toBe("cannot compile layer `conv2d` to tfjs: the tfjs backend has no lowering for `optical_flow`");
    expect(text.slice(diagnostics[0]!.range.start, diagnostics[0]!.range.end)).toBe("conv2d(4, kernel = 3)");
  });
});

// ---- numerical parity with hand computations (PyTorch conventions) ----

interface Array5 {
  data: Float32Array;
  shape: number[];
}

async function read(t: tf.Tensor): Promise<Array5> {
  return { data: (await t.data()) as Float32Array, shape: t.shape };
}

/** Row-major offset of an index. */
function offset(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((acc, v, i) => acc * shape[i]! + v, 0);
}

/** Every index of a shape, in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const index = shape.map(() => 0);
  if (shape.some((d) => d === 0)) return;
  for (;;) {
    yield [...index];
    let axis = shape.length - 1;
    while (axis >= 0 && ++index[axis]! === shape[axis]) index[axis--] = 0;
    if (axis < 0) return;
  }
}

/**
 * PyTorch's convolution, channels-last: x [N, ...S, Cin], kernel [...K, Cin/groups, Cout],
 * zero padding `before` (the output size decides how much is used after).
 */
function naiveConv(
  x: Array5,
  kernel: Array5,
  bias: Float32Array | undefined,
  stride: number[],
  before: number[],
  dilation: number[],
  groups: number,
  outSpatial: number[],
): Array5 {
  const dims = stride.length;
  const n = x.shape[0]!;
  const cin = x.shape[dims + 1]!;
  const cout = kernel.shape[dims + 1]!;
  const perGroupIn = cin / groups;
  const perGroupOut = cout / groups;
  const shape = [n, ...outSpatial, cout];
  const data = new Float32Array(size(shape));
  const kSpatial = kernel.shape.slice(0, dims);
  for (const [b, ...rest] of indices(shape)) {
    const o = rest.slice(0, dims);
    const co = rest[dims]!;
    const g = Math.floor(co / perGroupOut);
    let sum = bias ? bias[co]! : 0;
    for (const k of indices(kSpatial)) {
      const pos = o.map((oi, i) => oi * stride[i]! - before[i]! + k[i]! * dilation[i]!);
      if (pos.some((p, i) => p < 0 || p >= x.shape[i + 1]!)) continue;
      for (let ci = 0; ci < perGroupIn; ci++) {
        sum += x.data[offset(x.shape, [b!, ...pos, g * perGroupIn + ci])]! * kernel.data[offset(kernel.shape, [...k, ci, co])]!;
      }
    }
    data[offset(shape, [b!, ...rest])] = sum;
  }
  return { data, shape };
}

/** Max pooling with -inf padding, or average pooling that leaves padding out of the average. */
function naivePool(x: Array5, kernel: number[], stride: number[], before: number[], outSpatial: number[], mode: "max" | "avg"): Array5 {
  const dims = kernel.length;
  const shape = [x.shape[0]!, ...outSpatial, x.shape[dims + 1]!];
  const data = new Float32Array(size(shape));
  for (const [b, ...rest] of indices(shape)) {
    const o = rest.slice(0, dims);
    const c = rest[dims]!;
    let acc = mode === "max" ? -Infinity : 0;
    let count = 0;
    for (const k of indices(kernel)) {
      const pos = o.map((oi, i) => oi * stride[i]! - before[i]! + k[i]!);
      if (pos.some((p, i) => p < 0 || p >= x.shape[i + 1]!)) continue;
      const v = x.data[offset(x.shape, [b!, ...pos, c])]!;
      acc = mode === "max" ? Math.max(acc, v) : acc + v;
      count++;
    }
    data[offset(shape, [b!, ...rest])] = mode === "max" ? acc : acc / count;
  }
  return { data, shape };
}

function expectClose(actual: Array5, expected: Array5, tolerance = 1e-4): void {
  expect(actual.shape).toEqual(expected.shape);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(actual.data[i]! - expected.data[i]!) / (1 + Math.abs(expected.data[i]!)));
  expect(worst).toBeLessThan(tolerance);
}

/** Compiles a one-network spec and returns the model, its graph and a random input. */
function compileOne(text: string, seed = 11): { model: tf.LayersModel; graph: IrGraph; x: tf.Tensor } {
  const network = [...checkSource(text).values()][0]!;
  const { model, graph } = compileNetwork(network, { seed });
  return { model: model!, graph, x: randomTensor([2, ...graph.inputs[0]!.shape], seed) };
}

/** The output of the layer made from one IR node. */
function layerOutput(model: tf.LayersModel, name: string, x: tf.Tensor): tf.Tensor {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
}

const clipNetwork = (frames: number, height: number, width: number, channels: number, body: string) => `network parity {
  classes = 2
  input video = clip(frames = ${frames}, size = [${height}, ${width}], channels = ${channels})
  x = video -> ${body}
  output x -> global_avg_pool -> dense(classes)
}`;

describe("numerical parity of the lowering with hand computations", () => {
  it("conv3d with PyTorch-style padding at stride 2 (an explicit pad node)", async () => {
    const { model, x } = compileOne(clipNetwork(6, 7, 6, 3, "conv3d(4, kernel = 3, stride = 2, pad = 1) as conv"));
    const [kernel, bias] = model.getLayer("conv").getWeights();
    const expected = naiveConv(await read(x), await read(kernel!), (await bias!.data()) as Float32Array, [2, 2, 2], [1, 1, 1], [1, 1, 1], 1, [3, 4, 3]);
    expectClose(await read(layerOutput(model, "conv", x)), expected);
  });

  it("conv3d with per-axis padding, a dilated conv3d, a strided dilated conv2d, and a grouped conv2d", async () => {
    const padded = compileOne(clipNetwork(4, 6, 6, 2, "conv3d(3, kernel = [3, 1, 3], pad = [1, 0, 2], bias = false) as conv"));
    const [k1] = padded.model.getLayer("conv").getWeights();
    expectClose(
      await read(layerOutput(padded.model, "conv", padded.x)),
      naiveConv(await read(padded.x), await read(k1!), undefined, [1, 1, 1], [1, 0, 2], [1, 1, 1], 1, [4, 6, 8]),
    );

    const dilated = compileOne(clipNetwork(5, 7, 7, 2, "conv3d(3, kernel = 3, pad = [0, 2, 1], dilation = [1, 2, 1]) as conv"));
    const [k2, b2] = dilated.model.getLayer("conv").getWeights();
    expectClose(
      await read(layerOutput(dilated.model, "conv", dilated.x)),
      naiveConv(await read(dilated.x), await read(k2!), (await b2!.data()) as Float32Array, [1, 1, 1], [0, 2, 1], [1, 2, 1], 1, [3, 7, 7]),
    );

    const strided = compileOne(`network parity {
  classes = 2
  input image = image(size = 9, channels = 2)
  output image -> conv2d(3, kernel = 3, stride = 2, pad = 2, dilation = 2) as conv -> global_avg_pool -> dense(classes)
}`);
    const [k4, b4] = strided.model.getLayer("conv").getWeights();
    expectClose(
      await read(layerOutput(strided.model, "conv", strided.x)),
      naiveConv(await read(strided.x), await read(k4!), (await b4!.data()) as Float32Array, [2, 2], [2, 2], [2, 2], 1, [5, 5]),
    );

    const grouped = compileOne(`network parity {
  classes = 2
  input image = image(size = 7, channels = 4)
  output image -> conv2d(6, kernel = 3, stride = 2, groups = 2) as conv -> global_avg_pool -> dense(classes)
}`);
    const [k3, b3] = grouped.model.getLayer("conv").getWeights();
    expect(k3!.shape).toEqual([3, 3, 2, 6]);
    expectClose(
      await read(layerOutput(grouped.model, "conv", grouped.x)),
      naiveConv(await read(grouped.x), await read(k3!), (await b3!.data()) as Float32Array, [2, 2], [0, 0], [1, 1], 2, [3, 3]),
    );
  });

  it("the cpu conv2d's filter gradient, computed as a convolution, equals tfjs's", async () => {
    const cases: [number[], number[], [number, number], "same" | "valid"][] = [
      [[2, 9, 11, 3], [3, 3, 3, 4], [2, 2], "same"],
      [[2, 10, 7, 3], [5, 3, 3, 2], [3, 2], "valid"],
      [[2, 8, 8, 3], [2, 2, 3, 2], [2, 2], "same"],
    ];
    for (const [xShape, wShape, strides, padding] of cases) {
      const x = randomTensor(xShape, 41) as tf.Tensor4D;
      const w = randomTensor(wShape, 42) as tf.Tensor4D;
      const dy = randomTensor(tf.conv2d(x, w, strides, padding).shape, 43);
      const loss = (conv: typeof tf.conv2d) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D, strides, padding), dy));
      const [dxRef, dwRef] = tf.grads(loss(tf.conv2d))([x, w]);
      const [dx, dw] = tf.grads(loss(conv2dFilterGradAsConv as typeof tf.conv2d))([x, w]);
      expectClose(await read(dx!), await read(dxRef!), 1e-5);
      expectClose(await read(dw!), await read(dwRef!), 1e-5);
    }
  });

  it("max pooling pads with -inf and rounds up like PyTorch's ceil mode", async () => {
    // Inputs in [-1, 1): zero padding would win the max at the borders.
    const { model, graph, x } = compileOne(clipNetwork(4, 7, 6, 2, "maxpool3d(kernel = [1, 3, 3], stride = [1, 2, 2], pad = [0, 1, 1], ceil = true) as pool"));
    const node = graph.nodes.find((n) => n.name === "pool")!;
    expect(node.shape).toEqual([4, 4, 4, 2]);
    expectClose(await read(layerOutput(model, "pool", x)), naivePool(await read(x), [1, 3, 3], [1, 2, 2], [0, 1, 1], [4, 4, 4], "max"), 1e-6);
  });

  it("average pooling leaves padding out of the average, with and without ceil mode", async () => {
    const explicit = compileOne(clipNetwork(3, 6, 7, 2, "avgpool3d(kernel = [1, 3, 3], stride = [1, 2, 2], pad = [0, 1, 1], ceil = true) as pool"));
    const node = explicit.graph.nodes.find((n) => n.name === "pool")!;
    expect(node.args.pad).toBe("explicit");
    expect(node.shape).toEqual([3, 4, 4, 2]);
    expectClose(
      await read(layerOutput(explicit.model, "pool", explicit.x)),
      naivePool(await read(explicit.x), [1, 3, 3], [1, 2, 2], [0, 1, 1], [3, 4, 4], "avg"),
    );
    // "same" goes to tfjs's own pooling, which must follow the same rule.
    const same = compileOne(clipNetwork(3, 5, 5, 2, 'avgpool3d(kernel = 2, stride = [1, 2, 2], pad = "same") as pool'));
    expect(same.graph.nodes.find((n) => n.name === "pool")!.args.pad).toBe("same");
    expectClose(await read(layerOutput(same.model, "pool", same.x)), naivePool(await read(same.x), [2, 2, 2], [1, 2, 2], [0, 0, 0], [3, 3, 3], "avg"));
  });

  it("batch norm on clips: inference with moving statistics, training as PyTorch updates them", async () => {
    const layer = new VnetBatchNorm({ epsilon: 1e-5, momentum: 1 - 0.1, name: "bn_parity" });
    const x = randomTensor([2, 3, 4, 4, 5], 21);
    layer.apply(x); // builds the weights
    const gamma = randomTensor([5], 22);
    const beta = randomTensor([5], 23);
    const movingMean = randomTensor([5], 24);
    const movingVariance = tf.add(tf.abs(randomTensor([5], 25)), 0.5);
    layer.setWeights([gamma, beta, movingMean, movingVariance]);
    const [g, b, mm, mv] = await Promise.all([gamma.data(), beta.data(), movingMean.data(), movingVariance.data()]);
    const xs = await read(x);
    const formula = (means: ArrayLike<number>, vars: ArrayLike<number>): Array5 => ({
      shape: xs.shape,
      data: xs.data.map((v, i) => ((v - means[i % 5]!) / Math.sqrt(vars[i % 5]! + 1e-5)) * g[i % 5]! + b[i % 5]!),
    });
    expectClose(await read(layer.apply(x) as tf.Tensor), formula(mm, mv));

    // Training: batch statistics normalise (biased variance); the moving variance takes the unbiased one.
    const n = xs.data.length / 5;
    const mean = Array.from({ length: 5 }, (_, c) => xs.data.filter((_, i) => i % 5 === c).reduce((a, v) => a + v, 0) / n);
    const sq = Array.from({ length: 5 }, (_, c) => xs.data.filter((_, i) => i % 5 === c).reduce((a, v) => a + (v - mean[c]!) ** 2, 0));
    const biased = sq.map((s) => s / n);
    const unbiased = sq.map((s) => s / (n - 1));
    expectClose(await read(layer.apply(x, { training: true }) as tf.Tensor), formula(mean, biased));
    const [newMean, newVariance] = layer.getWeights().slice(2);
    expectClose(await read(newMean!), { shape: [5], data: Float32Array.from(mean, (m, c) => 0.9 * mm[c]! + 0.1 * m) });
    expectClose(await read(newVariance!), { shape: [5], data: Float32Array.from(unbiased, (v, c) => 0.9 * mv[c]! + 0.1 * v) });
  });

  it("local response normalisation averages alpha over PyTorch's window, odd or even", async () => {
    for (const size of [5, 4]) {
      const { model, x } = compileOne(clipNetwork(2, 3, 3, 7, `lrn(size = ${size}, alpha = 0.01, beta = 0.75, k = 2) as norm`));
      const xs = await read(x);
      const expected = xs.data.map((v, i) => {
        const c = i % 7;
        let sum = 0;
        for (let j = Math.max(0, c - Math.floor(size / 2)); j <= Math.min(6, c + Math.floor((size - 1) / 2)); j++) sum += xs.data[i - c + j]! ** 2;
        return v / (2 + (0.01 / size) * sum) ** 0.75;
      });
      expectClose(await read(layerOutput(model, "norm", x)), { shape: xs.shape, data: expected });
    }
  });

  it("non-local attention: softmax(theta . phi / sqrt(inner)) . g per position", async () => {
    const { model, x } = compileOne(clipNetwork(2, 4, 4, 6, "nonlocal(inner = 3) as nl"));
    const [theta, phi, g, attention] = await Promise.all(["nl.theta", "nl.phi", "nl.g", "nl.attention"].map((name) => read(layerOutput(model, name, x))));
    const positions = 2 * 4 * 4;
    const keys = 2 * 2 * 2;
    const expected = new Float32Array(2 * positions * 3);
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < positions; p++) {
        const scores = Array.from({ length: keys }, (_, k) => {
          let dot = 0;
          for (let c = 0; c < 3; c++) dot += theta!.data[(b * positions + p) * 3 + c]! * phi!.data[(b * keys + k) * 3 + c]!;
          return dot / Math.sqrt(3);
        });
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((a, w) => a + w, 0);
        for (let c = 0; c < 3; c++) {
          expected[(b * positions + p) * 3 + c] = weights.reduce((a, w, k) => a + (w / total) * g!.data[(b * keys + k) * 3 + c]!, 0);
        }
      }
    }
    expectClose(attention!, { shape: [2, 2, 4, 4, 3], data: expected });
    // The block starts as the identity: PySlowFast zero-initialises its batch norm's scale.
    expectClose(await read(layerOutput(model, "nl.residual", x)), await read(x));
  });

  it("conv_gru with 1x1 kernels on 1x1 maps is tfjs's GRU with sigmoid gates", async () => {
    const x = randomTensor([2, 5, 1, 1, 3], 31);
    const convGru = new VnetConvGru2d({ filters: 4, kernelSize: [1, 1], returnSequences: true, seed: 1 });
    const gru = tf.layers.gru({ units: 4, returnSequences: true, recurrentActivation: "sigmoid" });
    const ours = convGru.apply(x) as tf.Tensor;
    gru.apply(tf.reshape(x, [2, 5, 3]));
    const [kernel, recurrent, bias] = convGru.getWeights();
    gru.setWeights([tf.reshape(kernel!, [3, 12]), tf.reshape(recurrent!, [4, 12]), bias!]);
    const reference = gru.apply(tf.reshape(x, [2, 5, 3])) as tf.Tensor;
    expectClose(await read(tf.reshape(convGru.apply(x) as tf.Tensor, [2, 5, 4])), await read(reference), 1e-5);
    expect(ours.shape).toEqual([2, 5, 1, 1, 4]);
  });

  it("conv_lstm computes what tfjs's ConvLSTM2D computes with the same weights", async () => {
    const x = randomTensor([2, 4, 5, 5, 3], 33);
    const ours = new VnetConvLstm2d({ filters: 2, kernelSize: [3, 3], returnSequences: true, seed: 2 });
    const theirs = tf.layers.convLstm2d({ filters: 2, kernelSize: 3, padding: "same", returnSequences: true, recurrentActivation: "sigmoid" });
    ours.apply(x);
    theirs.apply(x);
    const weights = ours.getWeights();
    expect(Array.from(await weights[2]!.data())).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    theirs.setWeights([weights[0]!, weights[1]!, randomTensor([8], 34)]);
    ours.setWeights([weights[0]!, weights[1]!, randomTensor([8], 34)]);
    expectClose(await read(ours.apply(x) as tf.Tensor), await read(theirs.apply(x) as tf.Tensor), 1e-5);
  });

  it("stack_frames puts frames before channels; per_frame shares one set of weights across frames", async () => {
    const stacked = compileOne(clipNetwork(3, 2, 2, 2, "stack_frames as stack -> conv2d(1, kernel = 1)"));
    const xs = await read(stacked.x);
    const out = await read(layerOutput(stacked.model, "stack", stacked.x));
    for (const [b, t, h, w, c] of indices([2, 3, 2, 2, 2])) {
      expect(out.data[offset([2, 2, 2, 6], [b!, h!, w!, t! * 2 + c!])]).toBe(xs.data[offset(xs.shape, [b!, t!, h!, w!, c!])]);
    }
    const perFrame = compileOne(`network parity {
  classes = 2
  input video = clip(frames = 3, size = 2, channels = 2)
  output video -> per_frame { flatten -> dense(3, bias = false) as fc } as frames -> flatten -> dense(classes)
}`);
    const [kernel] = perFrame.model.getLayer("frames.fc").getWeights();
    const k = await kernel!.data();
    const y = await read(layerOutput(perFrame.model, "frames.unfold_time", perFrame.x));
    const xp = await read(perFrame.x);
    const expected = new Float32Array(2 * 3 * 3);
    for (const [b, t, u] of indices([2, 3, 3])) {
      let sum = 0;
      for (let f = 0; f < 8; f++) sum += xp.data[(b! * 3 + t!) * 8 + f]! * k[f * 3 + u!]!;
      expected[(b! * 3 + t!) * 3 + u!] = sum;
    }
    expectClose(y, { shape: [2, 3, 3], data: expected });
  });
});
