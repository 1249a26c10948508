/**
 * Temporal Grad-CAM (src/vis/gradcam): the array steps against PyTorch, the map against a hand
 * computation, one map per stream on every tiny network kind, the pictures, the CLI, and the
 * property that matters: a trained early-fusion model's map on builtin:motion lies on the moving
 * object (the generator's own masks), not on the background.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinClipShape, memorySplits } from "../../src/data/dataset.js";
import { motionDataset } from "../../src/data/motion.js";
import { encodeVideo } from "../../src/data/video/encode.js";
import { probeVideo } from "../../src/data/video/probe.js";
import type { FrameSource } from "../../src/data/views.js";
import { selectBackend } from "../../src/runtime/backend.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { trainingConfig, trainNetwork } from "../../src/runtime/train.js";
import { checkFiles } from "../../src/semantics/check.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { explainVideo } from "../../src/vis/gradcam/explain.js";
import { camGif, contactSheetPng, writeCamMp4 } from "../../src/vis/gradcam/render.js";
import { normalizeMinMax, trilinear } from "../../src/vis/gradcam/upsample.js";
import { checkText, compileNetwork } from "../helpers.js";
import { vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-gradcam-"));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await tf.setBackend("cpu");
});

function tinySpec(name: string): CheckedNetwork {
  const file = path.join(repo, "specs/tiny", `${name}.vnet`);
  return checkFiles([file]).networks.find((n) => n.file === file)!;
}

/** The first validation clip of builtin:motion shaped for a network, as a frame source. */
function motionSource(network: CheckedNetwork, seed = 1): FrameSource {
  const { frames, height: size } = builtinClipShape(lowerNetwork(network).protocol!);
  return memorySplits(motionDataset({ classes: Math.min(8, network.classes!), frames, size, trainPerClass: 0, valPerClass: 1, seed })).val[0]!.source;
}

describe("Grad-CAM's array steps", () => {
  it("upsample trilinearly and normalise exactly as PyTorch (F.interpolate, align_corners = False)", () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(repo, "test/fixtures/vis/trilinear.json"), "utf8")) as {
      cases: { from: [number, number, number]; to: [number, number, number]; input: number[]; upsampled: number[]; normalized: number[] }[];
    };
    for (const c of fixture.cases) {
      const up = trilinear(Float32Array.from(c.input), c.from, c.to);
      expect(up.length).toBe(c.upsampled.length);
      up.forEach((v, i) => expect(v).toBeCloseTo(c.upsampled[i]!, 5));
      normalizeMinMax(up).forEach((v, i) => expect(v).toBeCloseTo(c.normalized[i]!, 5));
    }
  });
});

describe("Grad-CAM maps", () => {
  it("are ReLU(sum over channels of the H x W-averaged gradients x activations), per time step", async () => {
    // After a 1x1x1 conv, global pooling and a dense layer, dScore/dA[t, y, x, c] = W[c, k] / (T H W):
    // the map is ReLU(sum_c W[c, k] / 32 A[..., c]), then min-max normalised (epsilon 1e-6).
    const network = checkText(`network lin {
  classes = 3
  input video = clip(frames = 2, size = 4)
  output video -> conv3d(4, kernel = 1, bias = false) as conv -> global_avg_pool -> dense(classes) as fc
}`).networks[0]!;
    const { model: built, graph } = compileNetwork(network, { seed: 3 });
    const model = built!;
    const pixels = Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => ((i * 7919) % 101) / 100);
    const source: FrameSource = { kind: "memory", meta: { frames: 2, fps: 25, width: 4, height: 4 }, pixels };
    const explanation = await explainVideo(graph, model, source, { layers: ["conv"], classIndex: 1 });
    const kernel = model.getLayer("conv").getWeights()[0]!.dataSync();
    const dense = model.getLayer("fc").getWeights()[0]!.dataSync();
    const expected = new Float32Array(2 * 16);
    for (let p = 0; p < 32; p++) {
      let sum = 0;
      for (let c = 0; c < 4; c++) {
        let a = 0;
        for (let i = 0; i < 3; i++) a += pixels[p * 3 + i]! * kernel[i * 4 + c]!;
        sum += dense[c * 3 + 1]! * a;
      }
      expected[p] = Math.max(0, sum / 32);
    }
    normalizeMinMax(expected);
    const map = explanation.views[0]!.maps[0]!;
    expect([map.steps, map.height, map.width]).toEqual([2, 4, 4]);
    map.values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    model.dispose();
  });

  it("come one per stream for every network kind, at the last spatio-temporal map", async () => {
    const expected: Record<string, string[]> = {
      tiny_slowfast: ["slow", "fast"],
      tiny_two_stream: ["rgb", "flow"],
      tiny_cnn_lstm: ["rgb"],
      tiny_early_fusion_gap: ["rgb"],
      tiny_cnn_2d: ["image"],
    };
    for (const file of fs.readdirSync(path.join(repo, "specs/tiny")).filter((f) => f.endsWith(".vnet"))) {
      const name = file.replace(/\.vnet$/, "");
      await new Promise((resolve) => setImmediate(resolve));
      const network = tinySpec(name);
      // Grad-CAM explains class scores; `vnet gradcam` refuses networks of other tasks (tiny_bmn).
      if (network.task !== "classification") continue;
      const { model: built, graph } = compileNetwork(network, { seed: 1 });
      const model = built!;
      const explanation = await explainVideo(graph, model, motionSource(network), { view: 0 });
      const modelInputs = network.inputs.filter((i) => i.modelInput).map((i) => i.name);
      expect(
        explanation.targets.map((t) => t.input),
        name,
      ).toEqual(expected[name] ?? modelInputs);
      explanation.views[0]!.maps.forEach((map, k) => {
        const stream = explanation.frames[k]!;
        expect(map.steps, name).toBe(stream.hasTime ? stream.frames.length : 1);
        expect(map.values.length, name).toBe(map.steps * map.height * map.width);
        expect(Math.min(...map.values), name).toBeGreaterThanOrEqual(0);
        expect(Math.max(...map.values), name).toBeLessThanOrEqual(1);
      });
      model.dispose();
    }
    // SlowFast: the slow pathway's map spans its 2 frames, the fast one's all 16 (PySlowFast upsamples each to its pathway).
    const slowfast = tinySpec("tiny_slowfast");
    const { model: built, graph } = compileNetwork(slowfast, { seed: 1 });
    const model = built!;
    const explanation = await explainVideo(graph, model, motionSource(slowfast), { view: 0 });
    expect(explanation.targets.map((t) => t.node.name)).toEqual(["res5.slow.0.branch2.relu", "res5.fast.0.branch2.relu"]);
    expect(explanation.views[0]!.maps.map((m) => m.steps)).toEqual([2, 16]);
    model.dispose();
  }, 300_000);

  it("are drawn as a contact sheet, a GIF and an MP4 with the clip's frames", async () => {
    const network = tinySpec("tiny_two_stream");
    const { model: built, graph } = compileNetwork(network, { seed: 1 });
    const model = built!;
    const explanation = await explainVideo(graph, model, motionSource(network), { view: 4 });
    model.dispose();
    expect(explanation.viewIndices).toEqual([4]);
    const sheet = PNG.sync.read(contactSheetPng(explanation, { classNames: ["right", "left", "up", "down", "rotate_cw"] }));
    // Two maps x three rows of 96-pixel tiles (32-pixel frames enlarged 3x).
    expect(sheet.height).toBeGreaterThan(2 * 3 * 96);
    const gif = camGif(explanation, 4);
    expect(gif.subarray(0, 6).toString("latin1")).toBe("GIF89a");
    const dir = tempDir();
    await writeCamMp4(path.join(dir, "cam.mp4"), explanation, 4);
    const video = await probeVideo(path.join(dir, "cam.mp4"));
    expect(video.frames).toBe(5);
  }, 120_000);
});

describe("Grad-CAM of a trained early-fusion model on builtin:motion", () => {
  it("puts most of the map's mass on the moving object and little on the background", async () => {
    // Two classes (right, left) of tiny_early_fusion_gap: 8 frames stacked into the first conv.
    const dir = tempDir();
    const spec = path.join(dir, "early_fusion_2.vnet");
    fs.writeFileSync(spec, fs.readFileSync(path.join(repo, "specs/tiny/tiny_early_fusion_gap.vnet"), "utf8").replace("classes = 5", "classes = 2"));
    const network = checkFiles([spec]).networks[0]!;
    const data = motionDataset({ classes: 2, frames: 8, size: 32, trainPerClass: 60, valPerClass: 5, seed: 1, masks: true });
    const runDir = path.join(dir, "run");
    const graph = lowerNetwork(network);
    const { model, history } = await trainNetwork(graph, data, {
      config: trainingConfig(network, { optimizer: "adam", lr: 0.004, batch: 16, epochs: 8 }),
      runDir,
      seed: 1,
    });
    expect(history.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(0.8);
    const splits = memorySplits(data);
    const plane = 32 * 32;
    let mass = 0;
    let area = 0;
    let contrast = 0;
    for (let i = 0; i < splits.val.length; i++) {
      // Let the test runner's messages through between the synchronous tfjs passes.
      await new Promise((resolve) => setImmediate(resolve));
      const item = splits.val[i]!;
      const explanation = await explainVideo(graph, model, item.source, { classIndex: item.label });
      // The map has no time axis (the frames are stacked), so it is measured against every place
      // the object covers during the clip: the union of its masks over the 8 frames.
      const map = explanation.views[0]!.maps[0]!;
      const masks = data.val.masks!.subarray(i * 8 * plane, (i + 1) * 8 * plane);
      let inside = 0;
      let total = 0;
      let pixels = 0;
      for (let p = 0; p < plane; p++) {
        let object = false;
        for (let t = 0; t < 8; t++) object ||= masks[t * plane + p] === 1;
        total += map.values[p]!;
        if (object) ((inside += map.values[p]!), pixels++);
      }
      mass += inside / total;
      area += pixels / plane;
      // Mean heat per pixel on the object over mean heat per background pixel.
      contrast += inside / pixels / ((total - inside) / (plane - pixels));
    }
    const n = splits.val.length;
    // The object's path covers about 30% of the frame; the map puts well over half its mass there.
    expect(area / n).toBeLessThan(0.4);
    expect(mass / n).toBeGreaterThan(0.5);
    expect(contrast / n).toBeGreaterThan(2.5);

    // The same model through the CLI, on a validation clip written as a real video.
    const clip = data.val.clips.subarray(0, 8 * plane * 3);
    const video = path.join(dir, "right.mp4");
    await encodeVideo(video, clip, { width: 32, height: 32, fps: 25 });
    const out = path.join(dir, "cam.png");
    const r = await vnet(["gradcam", spec, "--weights", runDir, video, "--true-label", "right", "-o", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Grad-CAM of class `right`, predicted `(right|left)`/);
    expect(r.out).toContain("stream rgb: layer relu_3");
    expect(PNG.sync.read(fs.readFileSync(out)).width).toBeGreaterThan(8 * 96);
    const bad = await vnet(["gradcam", spec, "--weights", runDir, video, "--layer", "conv_3", "-o", out]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("did you mean `conv3`?");
    expect((await vnet(["gradcam", spec, "--weights", runDir, video, "-o", video])).code).toBe(2);
    expect((await vnet(["gradcam", spec, "--weights", runDir, video, "-o", path.join(dir, "cam.jpg")])).code).toBe(2);
    model.dispose();
  }, 600_000);
});
