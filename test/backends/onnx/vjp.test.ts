/**
 * The VJP table, rule by rule: each case of test/fixtures/vjp/cases.json (one ONNX operator with
 * its attributes and inputs, made by scripts/fixtures/make_vjp_fixtures.py) is built as an ONNX
 * graph, differentiated by vnet's autodiff and run in ONNX Runtime. Its forward output must equal
 * PyTorch's, its gradients PyTorch autograd's (within 1e-4 relative) and central finite
 * differences of the same graph.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { differentiate } from "../../../src/backends/onnx/autodiff/differentiate.js";
import { Tape } from "../../../src/backends/onnx/autodiff/tape.js";
import { DIFFERENTIABLE_OPS } from "../../../src/backends/onnx/autodiff/vjp.js";
import { attr, GraphBuilder, type Attribute } from "../../../src/backends/onnx/builder.js";
import { relativeDiff } from "../../helpers.js";

interface Encoded {
  readonly shape: number[];
  readonly data: number[];
}

interface Case {
  readonly name: string;
  readonly op: string;
  readonly attrs: Record<string, { int?: number; ints?: number[]; float?: number; string?: string }>;
  readonly inputs: (Encoded & { kind: "float" | "int" })[];
  readonly outputs: Encoded[];
  readonly cotangents: Encoded[];
  readonly grads: Encoded[];
}

const FIXTURE = path.resolve(__dirname, "../../fixtures/vjp/cases.json");
const CASES = (JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { cases: Case[] }).cases;

function attributes(encoded: Case["attrs"]): Record<string, Attribute> {
  return Object.fromEntries(
    Object.entries(encoded).map(([key, v]) => {
      if (v.ints) return [key, attr.ints(v.ints)];
      if (v.int !== undefined) return [key, attr.int(v.int)];
      if (v.float !== undefined) return [key, attr.float(v.float)];
      return [key, attr.string(v.string!)];
    }),
  );
}

/** The case's node, its loss sum(r * y) and the loss's gradients, as one ONNX model. */
function build(c: Case): { bytes: Uint8Array; floats: string[]; gradients: string[] } {
  const g = new GraphBuilder();
  const floats: string[] = [];
  const inputs = c.inputs.map((input, i) => {
    if (input.kind === "int") return g.intConstant(`const${i}`, input.shape, input.data);
    const name = g.input(`x${i}`, input.shape);
    floats.push(name);
    return name;
  });
  const outputs = g.node(
    c.op,
    inputs,
    c.outputs.map((_, i) => `y${i}`),
    attributes(c.attrs),
  );
  const terms = outputs.map((y, i) => {
    const r = g.floatConstant(`r${i}`, c.cotangents[i]!.shape, c.cotangents[i]!.data);
    const product = g.op("Mul", [y, r], `ry${i}`);
    return g.op("ReduceSum", [product], `term${i}`, { keepdims: attr.int(0) });
  });
  const loss = terms.length === 1 ? terms[0]! : g.op("Sum", terms, "loss_sum");
  const tape = new Tape(g, {});
  const grads = differentiate(tape, loss, floats);
  g.reserve("loss");
  g.output(loss, "loss", []);
  outputs.forEach((y, i) => {
    g.reserve(`out${i}`);
    g.output(y, `out${i}`, c.outputs[i]!.shape);
  });
  const gradients = floats.map((f, i) => {
    g.reserve(`grad${i}`);
    g.output(grads.get(f)!, `grad${i}`, c.inputs.filter((x) => x.kind === "float")[i]!.shape);
    return `grad${i}`;
  });
  return { bytes: g.serialize({ name: c.name, opset: 17, producerVersion: "test", docString: "", metadata: {} }), floats, gradients };
}

describe("VJP rules against PyTorch autograd and finite differences", () => {
  it("cover the operators the table lists", () => {
    const tested = new Set(CASES.map((c) => c.op));
    // Rules that no single-op case exercises: Where is only used inside other rules.
    const untested = DIFFERENTIABLE_OPS.filter((op) => !tested.has(op) && op !== "Where");
    expect(untested).toEqual([]);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const { bytes, floats, gradients } = build(c);
      const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, intraOpNumThreads: 1 });
      const floatInputs = c.inputs.filter((x) => x.kind === "float");
      const feeds: Record<string, ort.Tensor> = {};
      floats.forEach((name, i) => (feeds[name] = new ort.Tensor("float32", Float32Array.from(floatInputs[i]!.data), floatInputs[i]!.shape)));
      const result = await session.run(feeds);
      c.outputs.forEach((want, i) => expect(relativeDiff(result[`out${i}`]!.data as Float32Array, want.data, 1e-3), `output ${i}`).toBeLessThan(1e-5));
      gradients.forEach((name, i) =>
        expect(relativeDiff(result[name]!.data as Float32Array, c.grads[i]!.data, 1e-3), `gradient of input ${i} vs PyTorch`).toBeLessThan(1e-4),
      );

      // Central differences of the loss, on up to 24 elements of each input.
      const eps = 1e-2;
      for (let i = 0; i < floats.length; i++) {
        const data = feeds[floats[i]!]!.data as Float32Array;
        const analytic = result[gradients[i]!]!.data as Float32Array;
        const step = Math.max(1, Math.floor(data.length / 24));
        const numeric: number[] = [];
        const picked: number[] = [];
        for (let k = 0; k < data.length; k += step) {
          const original = data[k]!;
          data[k] = original + eps;
          const up = ((await session.run(feeds, ["loss"])).loss!.data as Float32Array)[0]!;
          data[k] = original - eps;
          const down = ((await session.run(feeds, ["loss"])).loss!.data as Float32Array)[0]!;
          data[k] = original;
          numeric.push((up - down) / (2 * eps));
          picked.push(analytic[k]!);
        }
        expect(relativeDiff(picked, numeric, 1e-3), `gradient of input ${i} vs finite differences`).toBeLessThan(2e-2);
      }
      await session.release();
    });
  }
});
