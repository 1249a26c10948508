/**
 * The wasm backend trains vnet's models (it is the fastest backend that installs everywhere), but
 * tfjs-backend-wasm 4.22 computes some gradients wrongly: Conv3D's input and filter gradients and
 * the max-pool gradients for batches or channels above one. vnet works around them (conv layer,
 * src/runtime/wasm-kernels.ts); these tests compare every affected gradient, and whole models'
 * gradients, with the cpu backend's.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conv2dFilterGradAsConv, conv3dAsConv2d } from "../src/backends/tfjs/layers/conv.js";
import { selectBackend, workloadAvoidances } from "../src/runtime/backend.js";
import { checkFiles } from "../src/semantics/check.js";
import { compileNetwork, maxDiff } from "./helpers.js";

async function on<T>(backend: "cpu" | "wasm", work: () => Promise<T>): Promise<T> {
  if (backend === "wasm") await selectBackend({ force: "wasm" });
  else await tf.setBackend("cpu");
  return work();
}

const scale = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);

/** Gradients of sum(f(inputs) * dy) with respect to every input, on one backend. */
async function gradients(backend: "cpu" | "wasm", shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<Float32Array[]> {
  return on(backend, async () => {
    const xs = shapes.map((s, k) => tf.randomUniform(s, -1, 1, "float32", 11 + k));
    const dy = tf.randomUniform(f(...xs).shape, -1, 1, "float32", 5);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), dy)))(xs);
    return Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
  });
}

async function expectSameGradients(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor = f) {
  const cpu = await gradients("cpu", shapes, reference);
  const wasm = await gradients("wasm", shapes, f);
  cpu.forEach((g, k) => expect(maxDiff(wasm[k]!, g) / scale(g)).toBeLessThan(1e-5));
}

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe("wasm gradients equal the cpu backend's", () => {
  const conv3dCases: [number[], number[], [number, number, number], "same" | "valid"][] = [
    [[2, 4, 6, 6, 3], [3, 3, 3, 3, 4], [1, 1, 1], "same"],
    [[1, 4, 6, 6, 2], [1, 1, 1, 2, 3], [1, 1, 1], "valid"],
    [[2, 5, 9, 7, 3], [3, 3, 3, 3, 4], [2, 2, 2], "same"],
    [[2, 5, 9, 7, 3], [3, 2, 3, 3, 4], [2, 3, 2], "valid"],
    [[1, 8, 9, 9, 2], [3, 7, 7, 2, 4], [1, 2, 2], "valid"],
    [[1, 4, 6, 6, 2], [1, 1, 1, 2, 3], [1, 2, 2], "valid"],
  ];
  it.each(conv3dCases)("conv3d %j * %j, stride %j, %s", async (x, w, strides, padding) => {
    await expectSameGradients(
      [x, w],
      (a, b) => conv3dAsConv2d(a as tf.Tensor5D, b as tf.Tensor5D, strides, padding),
      (a, b) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, strides, padding),
    );
  });

  it("conv2d, whose filter gradient wasm lacks, computed as a convolution", async () => {
    for (const [x, w, strides, padding] of [
      [[2, 9, 11, 3], [3, 3, 3, 4], [2, 2], "same"],
      [[2, 10, 7, 3], [5, 3, 3, 2], [3, 2], "valid"],
    ] as const) {
      await expectSameGradients(
        [[...x], [...w]],
        (a, b) => conv2dFilterGradAsConv(a as tf.Tensor4D, b as tf.Tensor4D, [...strides], padding),
        (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [...strides], padding),
      );
    }
  });

  const poolCases: [string, number[], number | number[], number | number[], "same" | "valid"][] = [
    ["maxPool", [2, 8, 8, 3], 2, 2, "valid"],
    ["maxPool", [2, 9, 9, 3], 3, 2, "same"],
    ["maxPool", [1, 6, 6, 1], 2, 2, "valid"],
    ["maxPool3d", [2, 4, 8, 8, 3], [1, 2, 2], [1, 2, 2], "valid"],
    ["maxPool3d", [2, 4, 8, 8, 3], 2, 2, "valid"],
    ["maxPool3d", [2, 5, 9, 9, 2], 3, 2, "same"],
  ];
  it.each(poolCases)("%s %j, window %j, stride %j, %s", async (op, x, window, strides, padding) => {
    const pool =
      op === "maxPool"
        ? (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, window as number, strides as number, padding)
        : (a: tf.Tensor) => tf.maxPool3d(a as tf.Tensor5D, window as number, strides as number, padding);
    await expectSameGradients([x], pool);
  });

  // Deeper tiny specs (tiny_r2plus1d, tiny_slowfast) end in batch norms over a handful of values,
  // which amplify float32 rounding differences to ~1e-2; the kernels they use are covered above.
  it.each(["tiny_c3d", "tiny_r3d", "tiny_early_fusion_gap"])("every weight of %s", async (name) => {
    const network = checkFiles([path.resolve("specs/tiny", `${name}.vnet`)]).networks[0]!;
    const run = (backend: "cpu" | "wasm") =>
      on(backend, async () => {
        const { model: built, graph } = compileNetwork(network, { seed: 3 });
        const model = built!;
        // Dropout draws different masks on the two backends: switch it off to compare the rest.
        for (const layer of model.layers) if (layer.getClassName() === "Dropout") (layer as unknown as { rate: number }).rate = 0;
        // Raw clips whose normalised values (what the layers read) are uniform in [0, 1].
        const norm = graph.nodes.find((n) => n.op === "normalize")!.args as { mean: number[]; std: number[]; scale?: number };
        const fromNormalised = (u: tf.Tensor) => tf.mul(tf.add(tf.mul(u, norm.std), norm.mean), (norm.scale ?? 255) / 255);
        const xs = graph.inputs.map((i, k) => fromNormalised(tf.randomUniform([4, ...i.shape], 0, 1, "float32", 7 + k)));
        const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), network.classes!);
        const { grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, model.apply(xs.length === 1 ? xs[0]! : xs, { training: true }) as tf.Tensor) as tf.Scalar,
        );
        const names = model.trainableWeights.map((w) => w.originalName);
        const values = await Promise.all(model.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]!.data() as Promise<Float32Array>));
        model.dispose();
        return new Map(names.map((n, k) => [n, values[k]!]));
      });
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    expect([...wasm.keys()]).toEqual([...cpu.keys()]);
    for (const [weight, g] of cpu) expect(maxDiff(wasm.get(weight)!, g) / scale(g), weight).toBeLessThan(1e-3);
  });
});

describe("backend choice by workload", () => {
  it("passes over wasm for networks that are mostly 3D convolutions, not for 2D ones", () => {
    const load = (name: string) => checkFiles([path.resolve("specs/tiny", `${name}.vnet`)]).networks[0]!.layers;
    expect(workloadAvoidances(load("tiny_r3d")).map((a) => a.choice)).toEqual(["wasm"]);
    expect(workloadAvoidances(load("tiny_r3d"))[0]!.reason).toMatch(/100% of this network.s MACs are 3D convolutions/);
    expect(workloadAvoidances(load("tiny_early_fusion_gap"))).toEqual([]);
    expect(workloadAvoidances(load("tiny_single_frame"))).toEqual([]);
  });
});
