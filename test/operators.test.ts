/**
 * The gating, activation, slicing and temporal-shift operators: what the checker infers and
 * reports, PyTorch's own values (test/fixtures/operators/pytorch_operators.json, written by
 * scripts/fixtures/make_operator_fixtures.py from torch.nn and from TSM's and MMAction2's shift
 * code) reproduced by the tfjs model and the ONNX export, and tfjs = ONNX Runtime on a network
 * that uses them all.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportOnnx } from "../src/backends/onnx/index.js";
import { emitTfjs } from "../src/backends/tfjs/index.js";
import { WeightStore } from "../src/weights/store.js";
import { selectBackend } from "../src/runtime/backend.js";
import { loadOnnxModel, runOnnx } from "../src/runtime/onnx.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { checkText, codes, covered, maxDiff } from "./helpers.js";
import { checked, checkSource, expectParity, type Checked } from "./onnx-helpers.js";

const SE_LIB = fs.readFileSync(path.resolve(__dirname, "../specs/lib/squeeze_excitation.vnet"), "utf8");

beforeAll(async () => {
  await selectBackend({ force: "cpu" });
});

/** The checked model layers of one network, as "name op [shape]". */
function layers(network: CheckedNetwork): string[] {
  return network.layers.filter((l) => l.op !== "input" && !l.stream).map((l) => `${l.name} ${l.op} [${l.shape.join(", ")}]`);
}

function checkOne(text: string, others: Record<string, string> = {}): CheckedNetwork {
  const result = checkText(text, others);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.networks[0]!;
}

describe("the checker", () => {
  it("broadcasts a gate [N, C] or [N, 1, 1, 1, C] over a clip, and names both shapes when they do not", () => {
    const network = checkOne(`network g {
  input video = clip(frames = 4, size = 8, channels = 6)
  pooled = video -> global_avg_pool
  kept = video -> avgpool3d(kernel = [4, 8, 8])
  output [video, pooled, kept] -> mul
}`);
    expect(layers(network)).toEqual(["global_avg_pool global_avg_pool [6]", "avgpool3d avgpool3d [1, 1, 1, 6]", "mul mul [4, 8, 8, 6]"]);

    const bad = checkText(`network g {
  input video = clip(frames = 4, size = 8, channels = 6)
  gate = video -> global_avg_pool -> dense(4)
  output [video, gate] -> mul
}`);
    expect(codes(bad)).toEqual(["VN020"]);
    expect(bad.diagnostics[0]!.message).toBe("`mul` inputs do not broadcast: input 1 is [N, 4, 8, 8, 6], input 2 is [N, 4]");
    expect(bad.diagnostics[0]!.related?.map((r) => r.message).slice(0, 2)).toEqual([
      "input 1 `video` [N, 4, 8, 8, 6] comes from here",
      "input 2 `dense` [N, 4] comes from here",
    ]);
  });

  it("builds silu as swish, and gelu with its approximation", () => {
    const network = checkOne(`network a {
  input image = image(size = 4)
  output image -> silu -> swish -> hard_swish -> hard_sigmoid -> gelu(approximate = "tanh")
}`);
    expect(layers(network)).toEqual([
      "silu swish [4, 4, 3]",
      "swish swish [4, 4, 3]",
      "hard_swish hard_swish [4, 4, 3]",
      "hard_sigmoid hard_sigmoid [4, 4, 3]",
      "gelu gelu [4, 4, 3]",
    ]);
  });

  it("splits into slice layers named after the call, and slices with Python's indices", () => {
    const network = checkOne(`network s {
  input video = clip(frames = 6, size = 4, channels = 16)
  a, b = video -> split(2) as halves
  c = video -> split(sizes = [2, 4], axis = "time")
  output [a -> slice(-3) -> global_avg_pool, b -> slice(1, 4) -> global_avg_pool, c[1] -> slice(0, 3, axis = "time") -> slice(0, 3) -> global_avg_pool] -> concat
}`);
    expect(layers(network).filter((l) => !l.startsWith("global_avg_pool"))).toEqual([
      "halves.0 slice [6, 4, 4, 8]",
      "halves.1 slice [6, 4, 4, 8]",
      "split.0 slice [2, 4, 4, 16]",
      "split.1 slice [4, 4, 4, 16]",
      "slice slice [6, 4, 4, 3]",
      "slice_2 slice [6, 4, 4, 3]",
      "slice_3 slice [3, 4, 4, 16]",
      "slice_4 slice [3, 4, 4, 3]",
      "concat concat [9]",
    ]);
    const byName = new Map(network.layers.map((l) => [l.name, l]));
    expect(byName.get("halves.1")!.args).toEqual({ start: 8, end: 16, axis: "channels" });
    expect(byName.get("slice")!.args).toEqual({ start: -3, axis: "channels" });
  });

  it("reports parts that do not divide, sizes that do not add up and empty slices at the argument", () => {
    const uneven = checkText(`network s {
  input video = clip(frames = 6, size = 4, channels = 10)
  a, b, c = video -> split(3)
  output a
}`);
    const error = uneven.diagnostics.findIndex((d) => d.severity === "error");
    expect(uneven.diagnostics.filter((d) => d.severity === "error").map((d) => [d.code, d.message])).toEqual([
      ["VN015", "10 channels do not split into 3 equal parts"],
    ]);
    expect(covered(uneven, error)).toBe("3");
    const sizes = checkText(`network s {
  input video = clip(frames = 6, size = 4, channels = 10)
  output video -> split(sizes = [4, 4]) -> concat
}`);
    expect(sizes.diagnostics[0]!.message).toBe("`sizes` add up to 8, but the input has 10 channels");
    const empty = checkText(`network s {
  input video = clip(frames = 6, size = 4, channels = 10)
  output video -> slice(4, 4)
}`);
    expect(empty.diagnostics[0]!.message).toBe("slice [4, 4) of 10 channels is empty");
    expect(covered(empty)).toBe("4");
    const image = checkText(`network s {
  input image = image(size = 4)
  output image -> slice(0, 1, axis = "time")
}`);
    expect(codes(image)).toEqual(["VN021"]);
  });

  it("gives temporal_shift the clip's frame count inside per_frame, and a time axis outside it", () => {
    const network = checkOne(`network t {
  input video = clip(frames = 8, size = 4, channels = 16)
  a = video -> temporal_shift as on_clip
  output [a, video -> per_frame { conv2d(16, kernel = 1) -> temporal_shift(segments = 4) as shift }] -> add
}`);
    const byName = new Map(network.layers.flatMap((l) => [l, ...(l.body ?? [])]).map((l) => [l.name, l]));
    expect(byName.get("on_clip")!.args).toEqual({ fold: 8 });
    expect(byName.get("shift")!.args).toEqual({ fold: 8, segments: 4, frames_in_batch: 8 });
    expect(network.layers.find((l) => l.name === "on_clip")!.params).toBe(0);

    const outside = checkText(`network t {
  input image = image(size = 4, channels = 16)
  output image -> temporal_shift
}`);
    expect(codes(outside)).toEqual(["VN021"]);
    expect(outside.diagnostics[0]!.hint).toContain("inside `per_frame");
    const segments = checkText(`network t {
  input video = clip(frames = 6, size = 4, channels = 16)
  output video -> per_frame { temporal_shift(segments = 4) }
}`);
    expect(segments.diagnostics.map((d) => d.message)).toEqual(["4 segments do not divide the 6 frames"]);
    const fold = checkText(`network t {
  input video = clip(frames = 6, size = 4, channels = 4)
  output video -> temporal_shift(fold = 8)
}`);
    expect(fold.diagnostics.map((d) => d.message)).toEqual(["fold = 8 of 4 channels moves no channel"]);
  });

  it("places TSM's shift on the residual branch or on the whole block input (specs/lib/resnet_2d.vnet)", () => {
    const RESNET_LIB = fs.readFileSync(path.resolve(__dirname, "../specs/lib/resnet_2d.vnet"), "utf8");
    const readers = (shift: string) => {
      const network = checkOne(
        `import { resnet_block_2d } from "./resnet.vnet"
network t {
  input video = clip(frames = 4, size = 8, channels = 64)
  output video -> per_frame { resnet_block_2d(32, shift = "${shift}") as a -> resnet_block_2d(32, shift = "${shift}") as b }
}`,
        { "resnet.vnet": RESNET_LIB },
      );
      const body = network.layers.find((l) => l.op === "per_frame")!.body!;
      const nameOf = new Map(body.map((l) => [l.id, l.name]));
      const input = (name: string, index = 0) => nameOf.get(body.find((l) => l.name === name)!.inputs[index]!);
      // What conv1 reads, what the projection shortcut of block a reads, what block b's identity shortcut is.
      return [input("a.conv1"), input("a.downsample"), input("b.conv1"), input("b.add", 1)];
    };
    expect(readers("residual")).toEqual(["a.tsm.shift", "frame", "b.tsm.shift", "a.relu_3"]);
    expect(readers("inplace")).toEqual(["a.tsm.shift", "a.tsm.shift", "b.tsm.shift", "b.tsm.shift"]);
    expect(readers("none")).toEqual(["frame", "frame", "a.relu_3", "a.relu_3"]);
  });

  it("counts squeeze-excitation as fvcore does: 2 * C * inner + inner + C", () => {
    const network = checkOne(
      `import { squeeze_excitation } from "./se.vnet"
network g {
  input video = clip(frames = 4, size = 8, channels = 24)
  output video -> squeeze_excitation(8) as se
}`,
      { "se.vnet": SE_LIB },
    );
    expect(network.layers.reduce((sum, l) => sum + l.params, 0)).toBe(2 * 24 * 8 + 8 + 24);
    expect(layers(network).at(-1)).toBe("se.mul mul [4, 8, 8, 24]");
  });
});

interface Case {
  readonly name: string;
  readonly shape: number[];
  readonly input: number[];
  readonly output: number[];
  readonly segments?: number;
  readonly fold?: number;
  readonly frames?: number;
  readonly weights?: Record<string, number[]>;
}

const FIXTURE = JSON.parse(fs.readFileSync(path.resolve(__dirname, "fixtures/operators/pytorch_operators.json"), "utf8")) as { cases: Case[] };
const fixture = (name: string) => FIXTURE.cases.find((c) => c.name === name)!;

/** Runs a one-input network in tfjs and in ONNX Runtime; returns both outputs, flat. */
async function runBoth(spec: Checked, input: tf.Tensor, setWeights?: (model: tf.LayersModel) => void): Promise<[Float32Array, Float32Array]> {
  const { model } = emitTfjs(spec.graph, { zeroInit: true });
  setWeights?.(model!);
  const fromTfjs = (model!.predict(input) as tf.Tensor).dataSync() as Float32Array;
  const exported = exportOnnx(spec.graph, { weights: WeightStore.ofModel(model!, "test model"), sources: spec.sources });
  expect(exported.diagnostics).toEqual([]);
  const onnx = await loadOnnxModel(exported.bytes!);
  const inputName = onnx.inputs[0]!.name;
  const scores = await runOnnx(onnx, { [inputName]: { data: input.dataSync() as Float32Array, shape: input.shape } });
  await onnx.session.release();
  model!.dispose();
  return [fromTfjs, scores.logits.data as Float32Array];
}

/** PyTorch's [N * T, C, H, W] (TSM's 2D layout) as vnet's clip [N, T, H, W, C]. */
function clipFromFolded(values: number[], [nt, c, h, w]: number[], frames: number): tf.Tensor {
  return tf.tidy(() => tf.transpose(tf.tensor(values, [nt! / frames, frames, c!, h!, w!]), [0, 1, 3, 4, 2]));
}

describe("PyTorch's values", () => {
  for (const [name, op] of [
    ["silu", "silu"],
    ["hard_sigmoid", "hard_sigmoid"],
    ["hard_swish", "hard_swish"],
    ["gelu", "gelu"],
    ["gelu_tanh", 'gelu(approximate = "tanh")'],
  ] as const) {
    it(`${op} is torch.nn's`, async () => {
      const c = fixture(name);
      const spec = checkSource(`network a {
  input image = image(size = 8, channels = 1)
  output image -> ${op}
}`).get("a")!;
      const [fromTfjs, fromOnnx] = await runBoth(spec, tf.tensor(c.input, [1, 8, 8, 1]));
      expect(maxDiff(fromTfjs, c.output)).toBeLessThan(1e-6);
      expect(maxDiff(fromOnnx, c.output)).toBeLessThan(1e-6);
    });
  }

  for (const name of ["temporal_shift", "temporal_shift_groups"]) {
    const c = fixture(name);
    for (const where of ["on the clip", "inside per_frame"]) {
      it(`temporal_shift(fold = ${c.fold}, segments = ${c.segments}) on ${c.frames} frames ${where} is TSM's shift`, async () => {
        const [, channels, h, w] = c.shape as [number, number, number, number];
        const shift = `temporal_shift(fold = ${c.fold}, segments = ${c.segments})`;
        const spec = checkSource(`network t {
  input video = clip(frames = ${c.frames}, size = [${h}, ${w}], channels = ${channels})
  output video -> ${where === "on the clip" ? shift : `per_frame { ${shift} }`}
}`).get("t")!;
        const input = clipFromFolded(c.input, c.shape, c.frames!);
        const expected = clipFromFolded(c.output, c.shape, c.frames!).dataSync();
        const [fromTfjs, fromOnnx] = await runBoth(spec, input);
        expect(maxDiff(fromTfjs, expected)).toBe(0);
        expect(maxDiff(fromOnnx, expected)).toBe(0);
      });
    }
  }

  it("specs/lib's squeeze_excitation is fvcore's SqueezeExcitation", async () => {
    const c = fixture("squeeze_excitation");
    const [, channels, t, h, w] = c.shape as [number, number, number, number, number];
    const input = tf.transpose(tf.tensor(c.input, c.shape), [0, 2, 3, 4, 1]);
    const expected = tf.transpose(tf.tensor(c.output, c.shape), [0, 2, 3, 4, 1]).dataSync();
    const spec = checked(
      checkText(
        `import { squeeze_excitation } from "./se.vnet"
network g {
  input video = clip(frames = ${t}, size = [${h}, ${w}], channels = ${channels})
  output video -> squeeze_excitation(2) as se
}`,
        { "se.vnet": SE_LIB },
      ),
    ).get("g")!;
    const weights = c.weights!;
    const [fromTfjs, fromOnnx] = await runBoth(spec, input, (model) => {
      model.getLayer("se.fc1").setWeights([tf.tensor(weights["squeeze.kernel"]!, [1, 1, 1, channels, 2]), tf.tensor(weights["squeeze.bias"]!)]);
      model.getLayer("se.fc2").setWeights([tf.tensor(weights["excite.kernel"]!, [1, 1, 1, 2, channels]), tf.tensor(weights["excite.bias"]!)]);
    });
    expect(maxDiff(fromTfjs, expected)).toBeLessThan(1e-6);
    expect(maxDiff(fromOnnx, expected)).toBeLessThan(1e-6);
  });
});

describe("tfjs = ONNX Runtime", () => {
  it("on a network with every one of these operators, trained-like weights", async () => {
    const networks = checkSource(`
network gating_ops {
  classes = 3
  input video = clip(frames = 4, size = 6, channels = 4)
  x = video -> conv3d(16, kernel = 3, pad = 1) -> bn -> swish
  gate = x -> global_avg_pool -> dense(4) -> relu -> dense(16) -> hard_sigmoid
  y = [x, gate] -> mul -> temporal_shift(fold = 4) -> silu
  a, b = y -> split(2)
  c = [a -> hard_swish, b -> gelu] -> concat -> slice(2, -3) -> slice(1, 3, axis = "time") -> gelu(approximate = "tanh")
  d = video -> per_frame { conv2d(8, kernel = 3) -> temporal_shift(segments = 2) -> relu -> global_avg_pool } -> temporal_pool
  e = [video -> conv3d(8, kernel = 1), video -> conv3d(8, kernel = 1) -> avgpool3d(kernel = [4, 6, 6])] -> mul
  output [c -> global_avg_pool, d, e -> global_max_pool] -> concat -> dense(classes)
}`);
    await expectParity(networks.get("gating_ops")!);
  });
});
