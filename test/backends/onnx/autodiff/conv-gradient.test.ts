/**
 * The Conv gradient subgraphs (src/backends/onnx/autodiff/conv-gradient.ts), run in ONNX Runtime:
 * every formulation of dX and dW equals PyTorch's autograd on the committed fixtures
 * (scripts/fixtures/make_conv_gradient_fixtures.py: every kind of Conv of the spec library, small),
 * and the chosen ones equal central finite differences of ONNX Runtime's own forward Conv. The bias
 * gradient, the configuration read from ONNX attributes and the choice rule are checked too.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  chooseInputGradient,
  chooseWeightGradient,
  convConfig,
  convNodeAttributes,
  emitConvBiasGradient,
  emitConvInputGradient,
  emitConvWeightGradient,
  inputGradientFormulations,
  weightGradientFormulations,
  type ConvAttributes,
  type ConvConfig,
} from "../../../../src/backends/onnx/autodiff/conv-gradient.js";
import { GraphBuilder } from "../../../../src/backends/onnx/builder.js";
import { seededRandom } from "../../../../src/data/motion.js";
import { relativeDiff } from "../../../helpers.js";

/** One case of scripts/fixtures/make_conv_gradient_fixtures.py: a Conv by its ONNX attributes, float32 data in base64. */
interface Fixture extends ConvAttributes {
  readonly name: string;
  readonly x_shape: readonly number[];
  readonly w_shape: readonly number[];
  readonly y_shape: readonly number[];
  readonly x: string;
  readonly w: string;
  readonly dy: string;
  readonly dx: string;
  readonly dw: string;
}

const fixtures = (JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../fixtures/conv-gradient/torch.json"), "utf8")) as { cases: Fixture[] }).cases;

const floats = (base64: string) => {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const dims = (conv: ConvConfig) => ({
  x: [conv.batch, conv.inChannels, ...conv.input],
  w: [conv.outChannels, conv.inChannels / conv.groups, ...conv.kernel],
  y: [conv.batch, conv.outChannels, ...conv.out],
});

/** Builds a graph over the named float inputs with `build`, runs it in ONNX Runtime and returns its one output. */
async function run(inputs: Record<string, { data: Float32Array; dims: readonly number[] }>, build: (graph: GraphBuilder) => string): Promise<Float32Array> {
  const graph = new GraphBuilder();
  for (const [name, value] of Object.entries(inputs)) graph.input(name, value.dims);
  const result = build(graph);
  graph.reserve("out");
  graph.output(result, "out", []);
  const session = await ort.InferenceSession.create(graph.serialize({ name: "test", opset: 17, producerVersion: "test", docString: "", metadata: {} }), {
    logSeverityLevel: 3,
  });
  const feeds = Object.fromEntries(session.inputNames.map((name) => [name, new ort.Tensor("float32", inputs[name]!.data, [...inputs[name]!.dims])]));
  const output = (await session.run(feeds)).out!.data as Float32Array;
  await session.release();
  return output;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

function randomArray(size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: size }, () => random() * 2 - 1);
}

describe("every formulation equals PyTorch's autograd", () => {
  it("has the fixtures", () => expect(fixtures.length).toBeGreaterThanOrEqual(30));

  for (const fixture of fixtures) {
    const conv = convConfig(fixture, fixture.x_shape, fixture.w_shape);
    it(`${fixture.name}: shapes as PyTorch's`, () => expect(dims(conv).y).toEqual(fixture.y_shape));
    const d = dims(conv);
    for (const formulation of inputGradientFormulations(conv)) {
      it(`${fixture.name}: dX by ${formulation}`, async () => {
        const dx = await run({ dy: { data: floats(fixture.dy), dims: d.y }, w: { data: floats(fixture.w), dims: d.w } }, (graph) =>
          emitConvInputGradient(graph, conv, "dy", "w", "grad", formulation),
        );
        expect(relativeDiff(dx, floats(fixture.dx), 1)).toBeLessThan(1e-4);
      });
    }
    for (const formulation of weightGradientFormulations(conv)) {
      it(`${fixture.name}: dW by ${formulation}`, async () => {
        const dw = await run({ x: { data: floats(fixture.x), dims: d.x }, dy: { data: floats(fixture.dy), dims: d.y } }, (graph) =>
          emitConvWeightGradient(graph, conv, "x", "dy", "grad", formulation),
        );
        expect(relativeDiff(dw, floats(fixture.dw), 1)).toBeLessThan(1e-4);
      });
    }
  }
});

describe("the chosen formulations equal finite differences of ONNX Runtime's forward Conv", () => {
  const epsilon = 1e-2;
  /** <dY, Conv(x, w)> for each (x, w), by ONNX Runtime. */
  async function objective(conv: ConvConfig, dy: Float32Array, pairs: readonly (readonly [Float32Array, Float32Array])[]): Promise<number[]> {
    const d = dims(conv);
    const values: number[] = [];
    for (const [x, w] of pairs)
      values.push(
        dot(await run({ x: { data: x, dims: d.x }, w: { data: w, dims: d.w } }, (graph) => graph.op("Conv", ["x", "w"], "y", convNodeAttributes(conv))), dy),
      );
    return values;
  }
  const shifted = (a: Float32Array, v: Float32Array, scale: number) => a.map((value, i) => value + scale * v[i]!);

  for (const [index, fixture] of fixtures.entries()) {
    const conv = convConfig(fixture, fixture.x_shape, fixture.w_shape);
    it(`${fixture.name}: <dX, v> and <dW, v> are the directional derivatives`, async () => {
      const d = dims(conv);
      const x = floats(fixture.x);
      const w = floats(fixture.w);
      const dy = floats(fixture.dy);
      const vx = randomArray(x.length, 100 + index);
      const vw = randomArray(w.length, 200 + index);
      const dx = await run({ dy: { data: dy, dims: d.y }, w: { data: w, dims: d.w } }, (graph) => emitConvInputGradient(graph, conv, "dy", "w", "grad"));
      const dw = await run({ x: { data: x, dims: d.x }, dy: { data: dy, dims: d.y } }, (graph) => emitConvWeightGradient(graph, conv, "x", "dy", "grad"));
      const [xPlus, xMinus, wPlus, wMinus] = await objective(conv, dy, [
        [shifted(x, vx, epsilon), w],
        [shifted(x, vx, -epsilon), w],
        [x, shifted(w, vw, epsilon)],
        [x, shifted(w, vw, -epsilon)],
      ]);
      const finiteX = (xPlus! - xMinus!) / (2 * epsilon);
      const finiteW = (wPlus! - wMinus!) / (2 * epsilon);
      expect(Math.abs(dot(dx, vx) - finiteX)).toBeLessThan(1e-3 * Math.max(1, Math.abs(finiteX)));
      expect(Math.abs(dot(dw, vw) - finiteW)).toBeLessThan(1e-3 * Math.max(1, Math.abs(finiteW)));
    });
  }
});

describe("Conv configuration and bias gradient", () => {
  it("reads a Conv node's attributes with ONNX's defaults", () => {
    expect(convConfig({ kernel_shape: [3, 3] }, [2, 4, 9, 8], [6, 4, 3, 3])).toEqual({
      batch: 2,
      inChannels: 4,
      outChannels: 6,
      input: [9, 8],
      kernel: [3, 3],
      stride: [1, 1],
      dilation: [1, 1],
      before: [0, 0],
      after: [0, 0],
      out: [7, 6],
      groups: 1,
    });
    const strided = convConfig({ pads: [0, 1, 1, 2, 1, 1], strides: [1, 2, 2], group: 2 }, [1, 4, 3, 5, 5], [6, 2, 1, 3, 3]);
    expect([strided.before, strided.after, strided.out]).toEqual([
      [0, 1, 1],
      [2, 1, 1],
      [5, 3, 3],
    ]);
  });

  it("refuses a configuration that is not a Conv", () => {
    expect(() => convConfig({ group: 3 }, [1, 4, 5, 5], [6, 2, 3, 3])).toThrow(/channels do not match the groups/);
    expect(() => convConfig({ group: 2 }, [1, 4, 5, 5], [6, 4, 3, 3])).toThrow(/channels do not match the groups/);
    expect(() => convConfig({ strides: [1] }, [1, 4, 5, 5], [6, 4, 3, 3])).toThrow(/per-axis lists/);
    expect(() => convConfig({}, [1, 4, 2, 2], [6, 4, 3, 3])).toThrow(/does not fit/);
  });

  it("sums dY over batch and positions for the bias", async () => {
    const conv = convConfig({ pads: [1, 1, 1, 1] }, [2, 3, 4, 5], [4, 3, 3, 3]);
    const dy = randomArray(2 * 4 * 4 * 5, 7);
    const db = await run({ dy: { data: dy, dims: dims(conv).y } }, (graph) => emitConvBiasGradient(graph, conv, "dy", "grad"));
    const expected = new Float32Array(4);
    dy.forEach((v, i) => (expected[Math.floor(i / 20) % 4] += v));
    expect(relativeDiff(db, expected, 1)).toBeLessThan(1e-6);
  });
});

describe("the choice of formulation", () => {
  const conv = (x: number[], w: number[], attributes: Parameters<typeof convConfig>[0] = {}) => convConfig(attributes, x, w);
  it("takes one MatMul for the weight gradient of a 1x1 kernel, the folded Conv for a 3x3x3 one", () => {
    expect(chooseWeightGradient(conv([2, 64, 8, 56, 56], [128, 64, 1, 1, 1], { strides: [2, 2, 2] }))).toBe("im2col-matmul");
    expect(chooseWeightGradient(conv([2, 64, 8, 56, 56], [64, 64, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] }))).toBe("folded-conv");
  });
  it("takes im2col for a stride-1 depthwise kernel, the folded Conv for a strided one", () => {
    expect(chooseWeightGradient(conv([2, 64, 8, 56, 56], [64, 1, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1], group: 64 }))).toBe("im2col-matmul");
    expect(chooseWeightGradient(conv([1, 108, 18, 58, 58], [108, 1, 3, 3, 3], { strides: [1, 2, 2], group: 108 }))).toBe("folded-conv");
    expect(chooseWeightGradient(conv([2, 64, 8, 56, 56], [64, 32, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1], group: 2 }))).toBe("folded-conv");
  });
  it("takes the phase Convs for dX, ConvTranspose for a strided Conv with few outputs per filter", () => {
    expect(chooseInputGradient(conv([2, 64, 8, 56, 56], [64, 64, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] }))).toBe("phase-conv");
    expect(chooseInputGradient(conv([2, 64, 10, 58, 58], [128, 64, 3, 3, 3], { strides: [2, 2, 2] }))).toBe("phase-conv");
    expect(chooseInputGradient(conv([2, 256, 4, 16, 16], [512, 256, 3, 3, 3], { strides: [2, 2, 2] }))).toBe("conv-transpose");
    expect(chooseInputGradient(conv([2, 512, 1, 7, 7], [512, 512, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] }))).toBe("phase-conv");
  });
});
