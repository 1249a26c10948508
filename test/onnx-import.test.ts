/**
 * `vnet weights import`: ONNX files exported from PyTorch (test/fixtures/onnx, made by
 * scripts/fixtures/make_onnx_fixtures.py from torchvision's video ResNet classes at small widths,
 * and by make_family_fixtures.py from the X3D and TSM re-creations in scripts/reference/)
 * mapped onto the matching specs by structure. The imported tfjs model must give ONNX Runtime's
 * outputs on the source file (max |diff| <= 1e-4), with batch norm kept or folded by the exporter;
 * a wrong pairing must show in that comparison; structural mismatches are located diagnostics.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { emitTfjs } from "../src/backends/tfjs/index.js";
import { main } from "../src/cli/main.js";
import type { IrGraph } from "../src/ir/graph.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { readWeights } from "../src/weights/checkpoint.js";
import { modelWithWeights } from "../src/weights/model.js";
import { convToChannelsLast, mapOnnxWeights } from "../src/weights/import-onnx.js";
import { readOnnx, type OnnxModel } from "../src/backends/onnx/read.js";
import { onnxParity } from "../src/weights/onnx-parity.js";
import { assignWeights } from "../src/weights/tensors.js";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { checkText, cpuScratch } from "./helpers.js";

const FIXTURES = path.resolve(__dirname, "fixtures/onnx");
const SPECS = path.resolve(__dirname, "../specs");
const SPEC_OF: Record<string, string> = {
  r3d: path.join(SPECS, "tiny/tiny_r3d.vnet"),
  r2plus1d: path.join(SPECS, "tiny/tiny_r2plus1d.vnet"),
  mc3: path.join(FIXTURES, "tiny_mc3.vnet"),
};

const scratch = cpuScratch("vnet-onnx-");

function network(file: string): CheckedNetwork {
  const result = checkFiles([file]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.networks[0]!;
}

function importInto(spec: CheckedNetwork, onnxFile: string) {
  const graph = lowerNetwork(spec);
  const compiled = emitTfjs(graph, { seed: 4 });
  const model = readOnnx(fs.readFileSync(onnxFile));
  const mapping = mapOnnxWeights(graph, model, { at: { file: spec.file, range: spec.range }, file: onnxFile });
  return { model: compiled.model!, graph, mapping };
}

/** The parity of a tfjs model of `graph` with ONNX Runtime on an ONNX file. */
function parityWith(onnxFile: string, graph: IrGraph, model: tf.LayersModel, seed?: number) {
  const bytes = fs.readFileSync(onnxFile);
  return onnxParity(bytes, readOnnx(bytes), graph, model, seed === undefined ? {} : { seed });
}

describe("fixtures", () => {
  it("are small ONNX files from PyTorch", () => {
    for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".onnx"))) {
      expect(fs.statSync(path.join(FIXTURES, file)).size, file).toBeLessThan(300_000);
      expect(readOnnx(fs.readFileSync(path.join(FIXTURES, file))).producer).toMatch(/^pytorch/);
    }
  });
});

describe("parity with ONNX Runtime", () => {
  for (const kind of ["r3d", "r2plus1d", "mc3"]) {
    for (const variant of ["bn", "folded"]) {
      it(`tiny ${kind}, batch norm ${variant === "bn" ? "kept" : "folded into the convs"}: every weight mapped, max |diff| <= 1e-4`, async () => {
        const file = path.join(FIXTURES, `tiny_${kind}_${variant}.onnx`);
        const { model, graph, mapping } = importInto(network(SPEC_OF[kind]!), file);
        expect(mapping.report.diagnostics).toEqual([]);
        expect(mapping.report.unused).toEqual([]);
        expect(mapping.report.entries.filter((e) => e.status === "initialised")).toEqual([]);
        expect(mapping.weights.size).toBe(model.weights.length);
        if (variant === "folded") expect(mapping.report.entries.find((e) => e.target === "bn/moving_variance")!.reason).toContain("folded");
        assignWeights(model, mapping.weights);
        const parity = await parityWith(file, graph, model);
        if (typeof parity === "string") throw new Error(parity);
        expect(parity.outputShape).toEqual([2, 5]);
        expect(parity.maxAbs).toBeGreaterThan(0.1);
        expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
        model.dispose();
      });
    }
  }

  it("a PySlowFast-style I3D, whose blocks compute the shortcut first, pairs by shape onto tiny_i3d", async () => {
    const file = path.join(FIXTURES, "tiny_i3d_pyslowfast.onnx");
    const { model, graph, mapping } = importInto(network(path.join(SPECS, "tiny/tiny_i3d.vnet")), file);
    expect(mapping.report.diagnostics).toEqual([]);
    expect(mapping.report.entries.find((e) => e.target === "res2.0.branch1/kernel")!.source).toBe("blocks.0.branch1.weight");
    expect(mapping.report.entries.find((e) => e.target === "res2.0.branch2.a/kernel")!.source).toBe("blocks.0.a.weight");
    assignWeights(model, mapping.weights);
    const parity = await parityWith(file, graph, model);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  // scripts/fixtures/make_family_fixtures.py: PyTorchVideo's X3D and MMAction2's TSM (re-created in
  // scripts/reference/) at the tiny specs' widths. Equal outputs show vnet computes what they compute.
  for (const [fixture, spec, what] of [
    ["tiny_x3d_pytorchvideo.onnx", "tiny_x3d.vnet", "squeeze-excitation, swish, depthwise convs, the projected head"],
    ["tiny_tsm_mmaction2.onnx", "tiny_tsm.vnet", "the residual temporal shift across the segments"],
  ] as const) {
    it(`PyTorchVideo's / MMAction2's modules (${fixture}) onto ${spec}: ${what}`, async () => {
      const file = path.join(FIXTURES, fixture);
      const { model, graph, mapping } = importInto(network(path.join(SPECS, "tiny", spec)), file);
      expect(mapping.report.diagnostics).toEqual([]);
      assignWeights(model, mapping.weights);
      const parity = await parityWith(file, graph, model);
      if (typeof parity === "string") throw new Error(parity);
      expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      model.dispose();
    });
  }

  it("TSM's weights in the same network without the shift (tiny_tsn) pair, but the outputs differ", async () => {
    const file = path.join(FIXTURES, "tiny_tsm_mmaction2.onnx");
    const { model, graph, mapping } = importInto(network(path.join(SPECS, "tiny/tiny_tsn.vnet")), file);
    expect(mapping.report.diagnostics).toEqual([]);
    assignWeights(model, mapping.weights);
    const parity = await parityWith(file, graph, model);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it("a dense layer after a flatten of a spatial map gets its rows reordered (C3D's head)", async () => {
    const file = path.join(FIXTURES, "tiny_flatten.onnx");
    const { model, graph, mapping } = importInto(network(path.join(FIXTURES, "tiny_flatten.vnet")), file);
    expect(mapping.report.diagnostics).toEqual([]);
    expect(mapping.report.entries.find((e) => e.target === "fc/kernel")!.reason).toContain("rows reordered");
    assignWeights(model, mapping.weights);
    const parity = await parityWith(file, graph, model);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it("notices a wrong pairing: two same-shaped kernels swapped give other outputs", async () => {
    const file = path.join(FIXTURES, "tiny_r3d_bn.onnx");
    const { model, graph, mapping } = importInto(network(SPEC_OF.r3d!), file);
    const a = mapping.weights.get("layer1.0.conv1.conv3d/kernel")!;
    mapping.weights.set("layer1.0.conv1.conv3d/kernel", mapping.weights.get("layer1.0.conv2.conv3d/kernel")!);
    mapping.weights.set("layer1.0.conv2.conv3d/kernel", a);
    assignWeights(model, mapping.weights);
    const parity = await parityWith(file, graph, model);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeGreaterThan(1e-2);
    model.dispose();
  });
});

describe("files as torch.onnx.export writes them by default", () => {
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await main(argv, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
    return { code, text: lines.join("\n") };
  };

  it("imports a file with a fixed batch of 1 (the parity check runs at the file's batch)", async () => {
    const out = path.join(scratch(), "defaults");
    const r = await cli("weights", "import", path.join(FIXTURES, "tiny_r3d_defaults.onnx"), "--spec", SPEC_OF.r3d!, "-o", out, "--backend", "cpu");
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/parity with ONNX Runtime on a random input: max \|diff\| \S+ over outputs \[1, 5\]/);
    expect(Number(/max \|diff\| (\S+)/.exec(r.text)![1])).toBeLessThanOrEqual(1e-4);
    expect(r.text).not.toContain("internal error");
  });

  it("imports a file exported at another clip length, checking parity at the file's clip", async () => {
    const out = path.join(scratch(), "clip16");
    const r = await cli("weights", "import", path.join(FIXTURES, "tiny_r3d_clip16.onnx"), "--spec", SPEC_OF.r3d!, "-o", out, "--backend", "cpu");
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain("parity with ONNX Runtime on a random input at the file's clip [16, 32, 32, 3] (the spec's layers re-checked at it)");
    expect(Number(/max \|diff\| (\S+)/.exec(r.text)![1])).toBeLessThanOrEqual(1e-4);
    // The written weights are the spec's, at its own 8-frame clip, and equal the file's at the spec's clip too.
    const graph = lowerNetwork(network(SPEC_OF.r3d!));
    const model = modelWithWeights(graph, await readWeights(out)).model!;
    const parity = await parityWith(path.join(FIXTURES, "tiny_r3d_defaults.onnx"), graph, model);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });
});

describe("layouts and batch-norm epsilon", () => {
  it("moves PyTorch's conv weight [out, in, kt, kh, kw] to [kt, kh, kw, in, out]", () => {
    const weight = { shape: [2, 3, 1, 1, 4], values: Float32Array.from({ length: 24 }, (_, i) => i) };
    const moved = convToChannelsLast(weight);
    expect(moved.shape).toEqual([1, 1, 4, 3, 2]);
    // out o, in i, tap k: PyTorch offset (o * 3 + i) * 4 + k, vnet offset (k * 3 + i) * 2 + o.
    expect(moved.values[(3 * 3 + 1) * 2 + 1]).toBe((1 * 3 + 1) * 4 + 3);
  });

  it("shifts the moving variance by the difference of the epsilons", () => {
    const spec = checkText(
      `network n {\n  classes = 2\n  input v = clip(frames = 2, size = 4)\n  output v -> conv3d(2, kernel = 1, bias = false) as conv -> bn(eps = 0.001) as norm -> global_avg_pool -> dense(classes) as fc\n}\n`,
    ).networks[0]!;
    const t = (name: string, shape: number[], values: number[]) => ({ name, shape, values: Float32Array.from(values) });
    const onnx: OnnxModel = {
      producer: "hand-made",
      inputs: [{ name: "x", shape: [undefined, 3, 2, 4, 4] }],
      outputs: ["y"],
      layers: [
        {
          kind: "conv",
          node: "conv",
          weight: t("w", [2, 3, 1, 1, 1], [1, 2, 3, 4, 5, 6]),
          group: 1,
          strides: [1, 1, 1],
          dilations: [1, 1, 1],
          bn: {
            kind: "bn",
            node: "bn",
            scale: t("s", [2], [1, 2]),
            bias: t("b", [2], [0, 1]),
            mean: t("m", [2], [0.5, 0.5]),
            variance: t("v", [2], [1, 2]),
            epsilon: 1e-5,
          },
        },
        {
          kind: "dense",
          node: "gemm",
          op: "Gemm",
          weight: t("fc", [2, 2], [1, 2, 3, 4]),
          transposed: true,
          alpha: 2,
          bias: { tensor: t("c", [2], [1, 1]), values: Float32Array.from([0.5, 0.5]) },
        },
      ],
      unused: [],
      unsupported: [],
    };
    const mapping = mapOnnxWeights(lowerNetwork(spec), onnx, { at: { file: spec.file, range: spec.range }, file: "hand.onnx" });
    expect(mapping.report.diagnostics).toEqual([]);
    const variance = mapping.weights.get("norm/moving_variance")!.values;
    expect(variance[0]).toBeCloseTo(1 + 1e-5 - 1e-3, 7);
    expect(mapping.report.entries.find((e) => e.target === "norm/moving_variance")!.status).toBe("reshaped");
    expect(Array.from(mapping.weights.get("fc/kernel")!.values)).toEqual([2, 6, 4, 8]);
    expect(Array.from(mapping.weights.get("fc/bias")!.values)).toEqual([0.5, 0.5]);
  });
});

describe("what does not fit", () => {
  it("an MC3 file for an R3D spec: located at the first conv that differs, with the reason", () => {
    const spec = network(SPEC_OF.r3d!);
    const { model, mapping } = importInto(spec, path.join(FIXTURES, "tiny_mc3_bn.onnx"));
    model.dispose();
    const [first, , third] = mapping.report.diagnostics;
    expect(first!.code).toBe("VN104");
    expect(path.basename(first!.file)).toBe("video_resnet.vnet");
    expect(first!.message).toContain("layer `layer2.0.conv1.conv3d` ([3, 3, 3, 4, 8])");
    expect(first!.message).toContain("is [1, 3, 3, 4, 8] channels-last");
    expect(third!.message).toContain("its strides are [1, 2, 2], not [2, 2, 2]");
    expect(mapping.report.diagnostics.map((d) => d.code)).toEqual(["VN104", "VN104", "VN104", "VN104", "VN104"]);
    expect(mapping.report.diagnostics.at(-1)!.message).toMatch(/^15 weighted ONNX layers pair with no layer of tiny_r3d/);
  });

  it("from the command line: a clean import writes a loadable model; errors and unreadable files exit 1 and write nothing", async () => {
    const lines: string[] = [];
    const cli = async (...argv: string[]) => {
      lines.length = 0;
      return main(argv, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
    };
    const out = path.join(scratch(), "r2plus1d");
    expect(await cli("weights", "import", path.join(FIXTURES, "tiny_r2plus1d_folded.onnx"), "--spec", SPEC_OF.r2plus1d!, "-o", out, "--backend", "cpu")).toBe(
      0,
    );
    expect(lines.join("\n")).toMatch(
      /tiny_r2plus1d: 149 mapped, 38 reshaped, 0 initialised; 0 source tensors unused\nparity with ONNX Runtime on a random input: max \|diff\| \S+ over outputs \[2, 5\]/,
    );
    const graph = lowerNetwork(network(SPEC_OF.r2plus1d!));
    const loaded = modelWithWeights(graph, await readWeights(out)).model!;
    const parity = await parityWith(path.join(FIXTURES, "tiny_r2plus1d_folded.onnx"), graph, loaded, 3);
    if (typeof parity === "string") throw new Error(parity);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    loaded.dispose();

    const wrong = path.join(scratch(), "wrong");
    expect(await cli("weights", "import", path.join(FIXTURES, "tiny_mc3_bn.onnx"), "--spec", SPEC_OF.r3d!, "-o", wrong, "--backend", "cpu")).toBe(1);
    expect(lines.join("\n")).toMatch(/specs\/lib\/video_resnet\.vnet:\d+:\d+ {2}error VN104/);
    expect(fs.existsSync(wrong)).toBe(false);

    const junk = path.join(scratch(), "junk.onnx");
    fs.writeFileSync(junk, "not a protobuf at all");
    expect(await cli("weights", "import", junk, "--spec", SPEC_OF.r3d!, "-o", wrong)).toBe(1);
    expect(lines.join("\n")).toContain("error VN100");
    expect(await cli("weights", "export", junk)).toBe(2);
  });
});
