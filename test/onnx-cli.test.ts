/**
 * The ONNX commands: `vnet compile --target onnx`, `vnet export --weights ... --verify` (trained
 * weights, located errors for weights of another spec), `vnet predict` with ONNX Runtime and with
 * tfjs giving the same scores, the test protocol's views, and the .npy reader and writer.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainedLikeModel } from "../bench/lib/onnx-fixtures.js";
import { readMetadataProps } from "../src/backends/onnx/index.js";
import { selectBackend } from "../src/runtime/backend.js";
import { saveModel } from "../src/runtime/model-io.js";
import { parseNpy, readNpy, writeNpy } from "../src/runtime/npy.js";
import { checkSpec } from "./onnx-helpers.js";
import { vnet } from "./helpers.js";

const TINY = path.resolve(__dirname, "../specs/tiny");
let dir: string;

beforeAll(async () => {
  await selectBackend({ force: "cpu" });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-onnx-cli-"));
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The max |diff| figures a --verify run printed. */
const verifiedDiffs = (out: string) => [...out.matchAll(/max \|diff\| (\S+)/g)].map((m) => Number(m[1]));

/** The top classes a predict run printed, as [name, score]. */
const topLines = (out: string) => [...out.matchAll(/^ {2}\d\. (\S+) +(\S+)$/gm)].map((m) => [m[1], m[2]]);

// A spec with a test protocol of 2 clips x 3 crops averaged as logits, class names, and a resize.
const PROTOCOL_SPEC = `network labelled {
  classes = 3
  class_names = ["walk", "run", "jump"]
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.25])
  output rgb -> conv3d(4, kernel = 3, pad = 1) -> bn -> relu -> global_avg_pool -> dense(classes)
  sampling {
    train { stride = 2, crop = 16 }
    test { clips = 2, crops = "three", average = "logits", resize = 20 }
  }
}
`;

describe("vnet compile --target onnx and vnet export", () => {
  it("compiles fresh weights to an ONNX file and verifies it in ONNX Runtime", async () => {
    const file = path.join(dir, "fresh", "early.onnx");
    const r = await vnet(["compile", path.join(TINY, "tiny_early_fusion.vnet"), "--target", "onnx", "-o", file, "--backend", "cpu", "--seed", "4", "--verify"]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(
      /exported tiny_early_fusion \(fresh weights, seed 4\): \d+ ONNX nodes, opset 17, 26,037 weights and statistics; inputs video \[N, 4, 32, 32, 3\], channels-last; outputs logits and probabilities \[N, 5\]/,
    );
    expect(r.out).toContain(`wrote ${file}`);
    expect(r.out).toMatch(/random \(batch 2\): max \|diff\| /);
    expect(r.out).toMatch(/builtin:motion clip \(batch 1\): max \|diff\| /);
    expect(verifiedDiffs(r.out).every((d) => d <= 1e-4)).toBe(true);
    expect(readMetadataProps(fs.readFileSync(file))["vnet.network"]).toBe("tiny_early_fusion");
  });

  it("exports a trained checkpoint, verified", async () => {
    const spec = checkSpec(path.join(TINY, "tiny_single_frame.vnet"));
    const model = trainedLikeModel(spec.graph, 9);
    const checkpoint = path.join(dir, "run", "checkpoint");
    await saveModel(model, checkpoint);
    model.dispose();
    const file = path.join(dir, "trained.onnx");
    const r = await vnet(["export", path.join(TINY, "tiny_single_frame.vnet"), "--weights", path.join(dir, "run"), "-o", file, "--verify", "--backend", "cpu"]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`exported tiny_single_frame (checkpoint ${checkpoint})`);
    expect(verifiedDiffs(r.out)).toHaveLength(2);
    expect(verifiedDiffs(r.out).every((d) => d <= 1e-4)).toBe(true);
  });

  it("refuses weights of another spec with located errors (exit 1), and bad usage (exit 2)", async () => {
    const r = await vnet([
      "export",
      path.join(TINY, "tiny_late_fusion.vnet"),
      "--weights",
      path.join(dir, "run"),
      "-o",
      path.join(dir, "wrong.onnx"),
      "--backend",
      "cpu",
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /tiny_late_fusion\.vnet:\d+:\d+ {2}error VN082 {2}cannot export weight `tower\.conv1\.kernel` of layer `tower\.conv1`: checkpoint .* has no such weight/,
    );
    expect(fs.existsSync(path.join(dir, "wrong.onnx"))).toBe(false);
    const usage = async (args: string[]) => {
      const u = await vnet(args);
      expect(u.code).toBe(2);
      return u.err;
    };
    expect(await usage(["export", path.join(TINY, "tiny_r3d.vnet"), "-o", "x.onnx"])).toBe(
      "vnet: vnet export needs --weights <run-dir or checkpoint directory>",
    );
    // The directory that is missing is named, not a file inside it.
    const missing = path.join(dir, "missing");
    expect(await usage(["export", path.join(TINY, "tiny_r3d.vnet"), "--weights", missing, "-o", "x.onnx", "--backend", "cpu"])).toBe(
      `vnet: cannot load weights from ${missing}: ${missing} does not exist`,
    );
    const empty = path.join(dir, "empty-run");
    fs.mkdirSync(empty);
    expect(await usage(["export", path.join(TINY, "tiny_r3d.vnet"), "--weights", empty, "-o", "x.onnx"])).toBe(
      `vnet: cannot load weights from ${empty}: ${empty} holds no checkpoint: no model.json in it, and no checkpoint/ directory of a run`,
    );
    expect(await usage(["compile", path.join(TINY, "tiny_r3d.vnet"), "--target", "tfjs", "-o", dir, "--verify"])).toBe(
      "vnet: --verify checks an ONNX export: use it with --target onnx",
    );
    expect(await usage(["compile", path.join(TINY, "tiny_r3d.vnet"), "--target", "onnx"])).toBe(
      "vnet: vnet compile needs an output file: -o model.onnx (or --dump-ir)",
    );
  });
});

describe("vnet predict", () => {
  let spec: string;
  let onnxFile: string;
  let weights: string;
  beforeAll(async () => {
    spec = path.join(dir, "labelled.vnet");
    fs.writeFileSync(spec, PROTOCOL_SPEC);
    onnxFile = path.join(dir, "labelled.onnx");
    weights = path.join(dir, "labelled-tfjs");
    // The same seed gives the same fresh weights to both targets.
    expect((await vnet(["compile", spec, "--target", "onnx", "-o", onnxFile, "--seed", "2", "--backend", "cpu"])).code).toBe(0);
    expect((await vnet(["compile", spec, "--target", "tfjs", "-o", weights, "--seed", "2", "--backend", "cpu"])).code).toBe(0);
  });

  it("takes the protocol's views of a .npy video and averages them; ONNX Runtime and tfjs agree", async () => {
    const video = path.join(dir, "video.npy");
    const [t, h, w] = [12, 24, 30];
    writeNpy(video, { data: Float32Array.from({ length: t * h * w * 3 }, (_, i) => ((i * 7919) % 255) / 255), shape: [t, h, w, 3] });
    const onnx = await vnet(["predict", onnxFile, "--input", video, "--top", "3"]);
    expect(onnx.code, onnx.out + onnx.err).toBe(0);
    expect(onnx.out).toMatch(/^runtime: ONNX Runtime labelled \((cpu|cuda) provider\)/);
    expect(onnx.out).toContain(`input: ${video} [12, 24, 30, 3]`);
    expect(onnx.out).toContain("views: 6 = 2 clips x 3 crops (three) of [4, 16, 16, 3], logits averaging");
    expect(onnx.out).toContain("top-3 (softmax of the mean logits):");
    const onnxTop = topLines(onnx.out);
    expect(onnxTop.map(([name]) => name).sort()).toEqual(["jump", "run", "walk"]);
    expect(onnxTop.reduce((sum, [, score]) => sum + Number(score), 0)).toBeCloseTo(1, 3);

    const tfjs = await vnet(["predict", spec, "--runtime", "tfjs", "--weights", weights, "--input", video, "--top", "3", "--backend", "cpu"]);
    expect(tfjs.code, tfjs.out + tfjs.err).toBe(0);
    expect(tfjs.out).toContain("runtime: tfjs labelled");
    expect(topLines(tfjs.out)).toEqual(onnxTop);
  });

  it("takes a builtin clip as the video", async () => {
    const r = await vnet(["predict", onnxFile, "--sample", "builtin:motion:3"]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain("input: builtin:motion validation clip 3 (true class: down) [4, 16, 16, 3]");
    expect(r.out).toContain("views: 6 = 2 clips x 3 crops (three) of [4, 16, 16, 3], logits averaging");
    expect(topLines(r.out)).toHaveLength(3);
  });

  it("computes optical flow for a two-stream model in either runtime, which agree", async () => {
    const twoStream = path.join(dir, "two_stream.onnx");
    const spec = path.join(TINY, "tiny_two_stream.vnet");
    const tfjsWeights = path.join(dir, "two_stream-tfjs");
    expect((await vnet(["compile", spec, "--target", "onnx", "-o", twoStream, "--seed", "3", "--backend", "cpu"])).code).toBe(0);
    expect((await vnet(["compile", spec, "--target", "tfjs", "-o", tfjsWeights, "--seed", "3", "--backend", "cpu"])).code).toBe(0);
    const onnx = await vnet(["predict", twoStream, "--sample", "builtin:motion:1", "--top", "3"]);
    expect(onnx.code, onnx.out + onnx.err).toBe(0);
    expect(onnx.out).toContain("views: 9 = 3 clips x 3 crops (three) of [5, 32, 32, 3] with 1 optical-flow stream, softmax averaging");
    const tfjs = await vnet(["predict", spec, "--weights", tfjsWeights, "--sample", "builtin:motion:1", "--top", "3", "--backend", "cpu"]);
    expect(tfjs.code, tfjs.out + tfjs.err).toBe(0);
    expect(topLines(tfjs.out)).toEqual(topLines(onnx.out));
  });

  it("says what is wrong with the model file or the video", async () => {
    const notOnnx = path.join(dir, "not.onnx");
    fs.writeFileSync(notOnnx, "hello");
    const bad = await vnet(["predict", notOnnx, "--sample", "builtin:motion"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^vnet: .*not\.onnx is not an ONNX model/);
    const neither = await vnet(["predict", onnxFile]);
    expect(neither.err).toBe(
      "vnet: vnet predict needs one video: a file (vnet predict <model> video.mp4), --input <video.npy> or --sample builtin:motion[:index]",
    );
    const small = path.join(dir, "wrong-batch.npy");
    writeNpy(small, { data: new Float32Array(2 * 3 * 16 * 16 * 3), shape: [2, 3, 16, 16, 3] });
    expect((await vnet(["predict", onnxFile, "--input", small])).err).toBe(`vnet: ${small}: a batch of views must be [N, 4, 16, 16, 3], got [2, 3, 16, 16, 3]`);
  });
});

describe(".npy files", () => {
  it("reads float32, float64 and uint8 arrays and writes float32 ones", () => {
    const file = path.join(dir, "round.npy");
    writeNpy(file, { data: Float32Array.from([0.5, -1, 2.25, 3, 4, 5]), shape: [2, 3] });
    // The data starts on a 64-byte boundary.
    expect((fs.statSync(file).size - 6 * 4) % 64).toBe(0);
    expect(readNpy(file)).toEqual({ data: Float32Array.from([0.5, -1, 2.25, 3, 4, 5]), shape: [2, 3] });
    const npy = (descr: string, shape: string, body: Uint8Array) => {
      const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117, " ") + "\n";
      return new Uint8Array([...Buffer.from("\x93NUMPY\x01\x00", "latin1"), header.length, 0, ...Buffer.from(header), ...body]);
    };
    expect(parseNpy(npy("|u1", "(3,)", Uint8Array.from([0, 51, 255])))).toEqual({ data: Float32Array.from([0, 0.2, 1]), shape: [3] });
    expect(parseNpy(npy("<f8", "(1, 2)", new Uint8Array(Float64Array.from([1.5, -2]).buffer)))).toEqual({ data: Float32Array.from([1.5, -2]), shape: [1, 2] });
    expect(() => parseNpy(npy("<i4", "(1,)", new Uint8Array(4)))).toThrow("unsupported dtype <i4 (float32, float64 or uint8 pixels)");
    expect(() => parseNpy(npy("<f4", "(4,)", new Uint8Array(4)))).toThrow("the file holds 1 values, its shape [4] needs 4");
    expect(() => parseNpy(new Uint8Array(20))).toThrow("not a .npy file");
  });
});
