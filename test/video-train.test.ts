/**
 * End to end on real video files: `vnet data synth` writes a small motion dataset as mp4, bad
 * inputs are added to it, then a two-stream spec (RGB + Farneback flow, through the compiled CLI,
 * so loading runs in worker threads) and a 3D CNN train on it through ffmpeg decoding and are
 * evaluated with multi-clip averaging; the bad inputs are reported with their paths and skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MOTION_CLASSES } from "../src/data/motion.js";
import { vnet } from "./helpers.js";

const repo = path.resolve(__dirname, "..");
let scratch: string;
let data: string;
const TWO_STREAM = path.join(repo, "specs/tiny/tiny_two_stream.vnet");
const R3D = path.join(repo, "specs/tiny/tiny_r3d.vnet");
const cache = () => path.join(scratch, "cache");

/** Newest modification time under a folder (recursively). */
function newest(dir: string): number {
  return Math.max(
    ...fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs),
  );
}

beforeAll(async () => {
  // The worker threads run the compiled modules: build them when the sources are newer.
  const built = path.join(repo, "dist/src/data/load-worker.js");
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(repo, "src"))) {
    execFileSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", path.join(repo, "tsconfig.json")], { stdio: "inherit" });
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-video-train-"));
  data = path.join(scratch, "motion");
  const synth = await vnet([
    "data",
    "synth",
    "--out",
    data,
    "--classes",
    "5",
    "--frames",
    "8",
    "--size",
    "32",
    "--train-per-class",
    "2",
    "--val-per-class",
    "1",
    "--seed",
    "3",
  ]);
  expect(synth.code, synth.text).toBe(0);
  expect(synth.text).toMatch(/wrote 15 videos \(5 classes: right, left, up, down, rotate_cw; 32x32 at 25 fps, 8 to 24 frames\)/);
  // Bad inputs, listed like the good ones.
  fs.writeFileSync(path.join(data, "train/up/broken.mp4"), Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 131) % 256)));
  fs.writeFileSync(path.join(data, "train/down/empty.mp4"), "");
  fs.appendFileSync(path.join(data, "train.txt"), "train/up/broken.mp4 2\ntrain/down/empty.mp4 3\ntrain/left/left_0000.mp4 jump\n");
}, 120_000);

describe("training on a folder of videos", () => {
  it("writes class folders and list files of real mp4 videos", () => {
    expect(fs.readFileSync(path.join(data, "classes.txt"), "utf8")).toBe(`${MOTION_CLASSES.slice(0, 5).join("\n")}\n`);
    expect(fs.readFileSync(path.join(data, "train.txt"), "utf8")).toMatch(/^train\/right\/right_0000\.mp4 0\ntrain\/left\/left_0000\.mp4 1\n/);
    expect(fs.readdirSync(path.join(data, "val/rotate_cw"))).toEqual(["rotate_cw_0000.mp4"]);
    expect(fs.readFileSync(path.join(data, "val/up/up_0000.mp4")).subarray(4, 8).toString("latin1")).toBe("ftyp");
  });

  it("trains a two-stream spec (RGB + Farneback flow) in worker threads, skips bad inputs, and evaluates 3 clips x 3 crops", async () => {
    const spec = TWO_STREAM;
    const runDir = path.join(scratch, "two-stream");
    const train = spawnSync(
      process.execPath,
      [
        path.join(repo, "bin/vnet.js"),
        "train",
        spec,
        "--data",
        data,
        "--epochs",
        "2",
        "--batch",
        "4",
        "--optimizer",
        "adam",
        "--lr",
        "0.003",
        "--cache-dir",
        cache(),
        "--workers",
        "1",
        "-o",
        runDir,
      ],
      { encoding: "utf8" },
    );
    const out = train.stdout + train.stderr;
    expect(train.status, out).toBe(0);
    expect(out).toMatch(/train\.txt:13:1 {2}warning VN095 {2}label "jump" of .*left_0000\.mp4 is not one of the 5 classes/);
    expect(out).toMatch(/train\/down\/empty\.mp4 {2}warning VN091 {2}the file is empty \(0 bytes\) \(skipped\)/);
    expect(out).toMatch(/train\/up\/broken\.mp4 {2}warning VN092 {2}ffmpeg cannot read it: .*\(skipped\)/);
    expect(out).toMatch(/10 training and 5 validation videos/);
    expect(out).toMatch(/skipped 3 inputs: 1 video-empty \(VN091\), 1 video-corrupt \(VN092\), 1 unknown-label \(VN095\)/);
    expect(out).toMatch(/validation accuracy \d+\.\d% after 2 epochs/);
    // Flow was computed once per frame pair and size, then cached by content hash.
    expect(fs.readdirSync(path.join(cache(), "flow")).length).toBeGreaterThan(0);
    const progress = JSON.parse(fs.readFileSync(path.join(runDir, "checkpoint/progress.json"), "utf8")) as { classNames: string[] };
    expect(progress.classNames).toEqual(MOTION_CLASSES.slice(0, 5));
    const model = JSON.parse(fs.readFileSync(path.join(runDir, "checkpoint/model.json"), "utf8")) as {
      userDefinedMetadata: { vnet: { classNames: string[]; sampling: { test: { clips: number } } } };
    };
    expect(model.userDefinedMetadata.vnet.classNames).toEqual(MOTION_CLASSES.slice(0, 5));
    expect(model.userDefinedMetadata.vnet.sampling.test.clips).toBe(3);
    const evaluated = await vnet(["eval", spec, "--weights", runDir, "--data", data, "--cache-dir", cache()]);
    expect(evaluated.code, evaluated.text).toBe(0);
    expect(evaluated.text).toMatch(/top-1 \d+\.\d%  top-5 \d+\.\d%  \(5 videos, 9 views each, softmax averaging\)/);
    expect(evaluated.text).toMatch(/skipped 3 inputs/);
  });

  it("trains a 3D CNN through the decode path and evaluates 3 clips per video", async () => {
    const spec = R3D;
    const runDir = path.join(scratch, "r3d");
    const train = await vnet([
      "train",
      spec,
      "--data",
      data,
      "--epochs",
      "2",
      "--batch",
      "5",
      "--optimizer",
      "adam",
      "--lr",
      "0.003",
      "--cache-dir",
      cache(),
      "-o",
      runDir,
    ]);
    expect(train.code, train.text).toBe(0);
    expect(train.text).toMatch(/validation accuracy \d+\.\d% after 2 epochs/);
    const evaluated = await vnet([
      "eval",
      spec,
      "--weights",
      runDir,
      "--data",
      path.join(data, "val.txt"),
      "--val-fraction",
      "0",
      "--split",
      "train",
      "--cache-dir",
      cache(),
    ]);
    expect(evaluated.code, evaluated.text).toBe(0);
    expect(evaluated.text).toMatch(/\(5 videos, 3 views each, softmax averaging\)/);
    expect(evaluated.text).toMatch(/right +\d+\.\d%/);
  });

  it("predicts a video file with the test protocol: tfjs with optical flow, and the exported ONNX model", async () => {
    const video = path.join(data, "val/left/left_0000.mp4");
    const twoStream = await vnet(["predict", TWO_STREAM, video, "--weights", path.join(scratch, "two-stream"), "--cache-dir", cache()]);
    expect(twoStream.code, twoStream.text).toBe(0);
    expect(twoStream.text).toContain("views: 9 = 3 clips x 3 crops (three) of [5, 32, 32, 3] with 1 optical-flow stream, softmax averaging");
    // The class names come from the checkpoint (the dataset's), not "class 0".
    expect(twoStream.text).toMatch(/ 1\. (right|left|up|down|rotate_cw) +\d\.\d{4}/);
    const onnx = path.join(scratch, "r3d.onnx");
    const exported = await vnet(["export", R3D, "--weights", path.join(scratch, "r3d"), "-o", onnx]);
    expect(exported.code, exported.text).toBe(0);
    const viaOnnx = await vnet(["predict", onnx, video, "--cache-dir", cache()]);
    const viaTfjs = await vnet(["predict", R3D, video, "--weights", path.join(scratch, "r3d"), "--cache-dir", cache()]);
    expect(viaOnnx.code, viaOnnx.text).toBe(0);
    expect(viaOnnx.text).toContain("views: 3 = 3 clips x 1 crop (center) of [8, 32, 32, 3]");
    // Both runtimes rank the same classes with the same scores (to 4 decimals, give or take one).
    const ranking = (text: string) => [...text.matchAll(/ \d\. (\w+) +(\d\.\d{4})/g)].map((m) => [m[1], Number(m[2])] as const);
    const [a, b] = [ranking(viaOnnx.text), ranking(viaTfjs.text)];
    expect(a.map(([name]) => name)).toEqual(b.map(([name]) => name));
    a.forEach(([, score], i) => expect(Math.abs(score - b[i]![1])).toBeLessThanOrEqual(2e-4));
    const missing = await vnet(["predict", onnx, path.join(scratch, "no-such.mp4"), "--cache-dir", cache()]);
    expect(missing.code).toBe(1);
    expect(missing.text).toMatch(/no-such\.mp4 .*VN090/);
  });

  it("refuses a dataset whose classes do not match the network, and a missing folder", async () => {
    const spec = R3D;
    const three = path.join(scratch, "three");
    fs.mkdirSync(three);
    fs.writeFileSync(path.join(three, "train.txt"), "../motion/train/right/right_0000.mp4 0\n../motion/train/left/left_0000.mp4 2\n");
    const mismatch = await vnet(["train", spec, "--data", three, "--epochs", "1", "--cache-dir", cache(), "-o", path.join(scratch, "never")]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.text).toMatch(/error VN099 {2}the dataset has 3 classes \(0, 1, 2\) but tiny_r3d outputs 5/);
    const missing = await vnet(["train", spec, "--data", path.join(scratch, "nowhere"), "-o", path.join(scratch, "never")]);
    expect(missing.code).toBe(2);
    expect(missing.text).toMatch(/--data .*nowhere: no such file or folder/);
    expect(fs.existsSync(path.join(scratch, "never"))).toBe(false);
  });
});
