/**
 * One view sampler for every clip source: the same video as an .mp4 file and as a .npy tensor
 * gives `vnet predict` (ONNX Runtime and tfjs) and `vnet eval` identical frames, crops and scores.
 * The video is 20 frames of 30x24 pixels and the protocol 3 clips of 4 frames at stride 2, three
 * crops of 16x16 along the long side, at the video's own size (resize 24), so no resampling
 * differs between the decoders: the clips start at frames 0, 6 and 13 (MMAction2's test-mode
 * placement).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDataset } from "../../src/data/folder.js";
import { ViewLoader } from "../../src/data/loader.js";
import { testPlans } from "../../src/data/sampling.js";
import { decodeFrames } from "../../src/data/video/decode.js";
import { encodeVideo } from "../../src/data/video/encode.js";
import { fileSource, tensorSource, testViews } from "../../src/data/views.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { selectBackend } from "../../src/runtime/backend.js";
import { predictVideos } from "../../src/runtime/evaluate.js";
import { readNpy, writeNpy } from "../../src/runtime/npy.js";
import { onnxPredictor, predictVideo, tfjsPredictor } from "../../src/runtime/predict.js";
import { checkFiles } from "../../src/semantics/check.js";
import { readWeights } from "../../src/weights/checkpoint.js";
import { modelWithWeights } from "../../src/weights/model.js";
import { vnet } from "../helpers.js";

const SPEC = `network walker {
  classes = 3
  class_names = ["walk", "run", "jump"]
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.45], std = [0.225])
  output rgb -> conv3d(6, kernel = 3, pad = 1) -> bn -> relu -> global_avg_pool -> dense(classes)
  sampling {
    train { stride = 2, crop = 16 }
    test { clips = 3, crops = "three", average = "softmax", resize = 24 }
  }
}
`;

let dir: string;
let spec: string;
let mp4: string;
let npy: string;
let onnxFile: string;
let weights: string;

/** The top classes a predict run printed. */
const topLines = (out: string) => [...out.matchAll(/^ {2}\d\. (\S+) +(\S+)$/gm)].map((m) => [m[1], m[2]]);

beforeAll(async () => {
  await selectBackend({ force: "cpu" });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-predict-"));
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}");
  spec = path.join(dir, "walker.vnet");
  fs.writeFileSync(spec, SPEC);
  // 20 frames whose content moves and changes colour, so every frame and crop differs.
  const [t, h, w] = [20, 24, 30];
  const frames = Float32Array.from({ length: t * h * w * 3 }, (_, i) => {
    const c = i % 3;
    const x = Math.floor(i / 3) % w;
    const y = Math.floor(i / (3 * w)) % h;
    const k = Math.floor(i / (3 * w * h));
    return 0.5 + 0.4 * Math.sin(0.5 * (x - 2 * k) + 0.3 * y + c) * (c === 0 ? k / t : 1);
  });
  fs.mkdirSync(path.join(dir, "data", "walk"), { recursive: true });
  mp4 = path.join(dir, "data", "walk", "clip.mp4");
  await encodeVideo(mp4, frames, { width: w, height: h, fps: 25 });
  // The same video as a tensor: its decoded frames, as values in [0, 1].
  const meta = (await fileSource(mp4, path.join(dir, "cache"))).meta;
  const decoded = await decodeFrames(
    mp4,
    meta,
    Array.from({ length: t }, (_, i) => i),
    w,
    h,
  );
  const pixels = new Float32Array(t * h * w * 3);
  for (const [index, bytes] of decoded) for (let i = 0; i < bytes.length; i++) pixels[index * h * w * 3 + i] = bytes[i]! / 255;
  npy = path.join(dir, "clip.npy");
  writeNpy(npy, { data: pixels, shape: [t, h, w, 3] });
  fs.writeFileSync(path.join(dir, "data", "val.txt"), "walk/clip.mp4 walk\n");
  fs.writeFileSync(path.join(dir, "data", "train.txt"), "walk/clip.mp4 walk\n");
  fs.writeFileSync(path.join(dir, "data", "classes.txt"), "walk\nrun\njump\n");
  onnxFile = path.join(dir, "walker.onnx");
  weights = path.join(dir, "walker-tfjs");
  // The same seed gives both targets the same fresh weights.
  expect((await vnet(["compile", spec, "--target", "onnx", "-o", onnxFile, "--seed", "5", "--backend", "cpu"])).code).toBe(0);
  expect((await vnet(["compile", spec, "--target", "tfjs", "-o", weights, "--seed", "5", "--backend", "cpu"])).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("one sampler for video files, tensors and evaluation", () => {
  it("cuts the same frames and crops out of the .mp4 and the .npy", async () => {
    const graph = lowerNetwork(checkFiles([spec]).networks[0]!);
    const protocol = graph.protocol!;
    const file = await fileSource(mp4, path.join(dir, "cache"));
    const tensor = readNpy(npy);
    const memory = tensorSource(tensor.data, tensor.shape, 25);
    expect(testPlans(protocol, file.meta)).toEqual(testPlans(protocol, memory.meta));
    const plans = testPlans(protocol, file.meta);
    expect(plans.map((p) => p.frames)).toEqual([
      [0, 2, 4, 6],
      [6, 8, 10, 12],
      [13, 15, 17, 19],
    ]);
    expect(plans[0]!.crops.map((c) => [c.x, c.y])).toEqual([
      [0, 4],
      [7, 4],
      [14, 4],
    ]);
    const fromFile = await testViews(file, protocol);
    const fromTensor = await testViews(memory, protocol);
    expect(fromFile.views).toBe(9);
    expect(fromTensor.clips).toEqual(fromFile.clips);
  });

  it("gives predict (both inputs, both runtimes) and eval the same scores", async () => {
    const checked = checkFiles([spec]);
    const graph = lowerNetwork(checked.networks[0]!);
    const model = modelWithWeights(graph, await readWeights(weights)).model!;
    const tfjs = tfjsPredictor(graph, model, graph.classNames);
    const onnx = await onnxPredictor(onnxFile, "cpu");
    const tensor = readNpy(npy);
    const sources = { file: await fileSource(mp4, path.join(dir, "cache")), tensor: tensorSource(tensor.data, tensor.shape, 25) };
    const scores: Float32Array[] = [];
    for (const predictor of [tfjs, onnx]) for (const source of Object.values(sources)) scores.push((await predictVideo(predictor, { source })).averaged);
    // vnet eval: the dataset's video through the loader, plan by plan.
    const dataset = await openDataset(path.join(dir, "data"), { cacheDir: path.join(dir, "cache") });
    const loader = new ViewLoader({ geometry: graph.protocol!, flows: [], workers: 0 });
    const evaluated = await predictVideos(model, graph, dataset.val, {
      loader,
      protocol: graph.protocol!,
      flows: [],
      batch: 9,
      onFailure: (_, error) => {
        throw error;
      },
    });
    await loader.close();
    expect(evaluated.views).toBe(9);
    scores.push(evaluated.scores);
    for (const s of scores.slice(1)) for (let k = 0; k < 3; k++) expect(s[k]!).toBeCloseTo(scores[0]![k]!, 5);
    // tfjs on the file, on the tensor, and eval: bit for bit the same views, so the same numbers.
    expect(scores[1]).toEqual(scores[0]);
    expect(scores[4]).toEqual(scores[0]);
    await onnx.close();
    await tfjs.close();
  });

  it("prints the same classes from the command line for the .mp4 and the .npy, in either runtime", async () => {
    const outputs = [
      await vnet(["predict", onnxFile, mp4, "--cache-dir", path.join(dir, "cache")]),
      await vnet(["predict", onnxFile, "--input", npy]),
      await vnet(["predict", spec, mp4, "--weights", weights, "--backend", "cpu", "--cache-dir", path.join(dir, "cache")]),
      await vnet(["predict", spec, "--input", npy, "--weights", weights, "--backend", "cpu"]),
    ];
    for (const r of outputs) {
      expect(r.code, r.text).toBe(0);
      expect(r.text).toContain("views: 9 = 3 clips x 3 crops (three) of [4, 16, 16, 3], softmax averaging");
    }
    const [onnxFile_, onnxTensor, tfjsFile, tfjsTensor] = outputs.map((r) => topLines(r.text));
    // The same runtime prints the same classes and scores for both inputs; the runtimes agree on the classes.
    expect(onnxTensor).toEqual(onnxFile_);
    expect(tfjsTensor).toEqual(tfjsFile);
    expect(tfjsFile!.map(([name]) => name)).toEqual(onnxFile_!.map(([name]) => name));
    tfjsFile!.forEach(([, score], k) => expect(Number(score)).toBeCloseTo(Number(onnxFile_![k]![1]), 3));
    expect(onnxFile_!.map(([name]) => name).sort()).toEqual(["jump", "run", "walk"]);
  });
});
