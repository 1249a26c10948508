/**
 * What a user sees when the one input of a command is unusable: `vnet predict` of an empty,
 * missing or non-video file ends with an error (not a warning that says the file was skipped,
 * and exit 1), and a class folder without videos, which counts as a class, is named when the
 * dataset's class count then differs from the network's. `vnet features -o` never writes into
 * a folder of the user's (the videos' folder, one holding other files).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpy } from "../../src/runtime/npy.js";
import { vnet } from "../helpers.js";

const SPEC = path.resolve(__dirname, "../../specs/tiny/tiny_r3d.vnet");
let scratch = "";
let onnx = "";
const cache = () => path.join(scratch, "cache");

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-unreadable-"));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("vnet predict of a video it cannot read", () => {
  it("is an error with the file, the code and why, exit 1", { timeout: 60_000 }, async () => {
    onnx = path.join(scratch, "tiny_r3d.onnx");
    const compiled = await vnet(["compile", SPEC, "--target", "onnx", "-o", onnx]);
    expect(compiled.code, compiled.text).toBe(0);
    fs.writeFileSync(path.join(scratch, "empty.mp4"), "");
    fs.writeFileSync(path.join(scratch, "notes.mp4"), "not a video\n");
    const cases: [string, RegExp][] = [
      ["empty.mp4", /empty\.mp4 {2}error VN091 {2}the file is empty \(0 bytes\)$/m],
      ["missing.mp4", /missing\.mp4 {2}error VN090 {2}cannot read it: no such file or directory$/m],
      ["notes.mp4", /notes\.mp4 {2}error VN092 {2}ffmpeg cannot read it: /m],
    ];
    for (const [file, expected] of cases) {
      const run = await vnet(["predict", onnx, path.join(scratch, file), "--cache-dir", cache()]);
      expect(run.code, run.text).toBe(1);
      expect(run.err).toMatch(expected);
      expect(run.text).not.toContain("skipped");
      expect(run.text).not.toContain("warning");
    }
  });
});

describe("vnet predict --input of a tensor that is not a video in [0, 1]", () => {
  it("refuses pixels of 0-255 saved as floats, a tensor of another shape, and a missing file, exit 2", { timeout: 60_000 }, async () => {
    expect(onnx, "the ONNX model of the test above").not.toBe("");
    const bright = path.join(scratch, "bright.npy");
    writeNpy(bright, { data: Float32Array.from({ length: 10 * 16 * 16 * 3 }, (_, i) => i % 256), shape: [10, 16, 16, 3] });
    const image = path.join(scratch, "image.npy");
    writeNpy(image, { data: new Float32Array(16 * 16 * 3).fill(0.5), shape: [16, 16, 3] });
    const cases: [string, RegExp][] = [
      [
        bright,
        /bright\.npy: its values range over \[0\.000, 255\.0\]; a video tensor holds pixels in \[0, 1\] \(divide 0-255 pixels by 255, or save them as uint8\)/,
      ],
      [image, /image\.npy: a video tensor is \[T, H, W, 3\] \(or a batch of views \[N, T, H, W, C\]\), got \[16, 16, 3\]$/m],
      [path.join(scratch, "missing.npy"), /cannot read .*missing\.npy: no such file or directory$/m],
    ];
    for (const [file, expected] of cases) {
      const run = await vnet(["predict", onnx, "--input", file]);
      expect(run.code, run.text).toBe(2);
      expect(run.err).toMatch(expected);
    }
  });
});

describe("a dataset with an empty class folder", () => {
  it("names the empty class when the class count differs from the network's", { timeout: 60_000 }, async () => {
    const video = path.join(scratch, "clip.mp4");
    execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=32x32:rate=25", "-frames:v", "8", "-pix_fmt", "yuv420p", video]);
    const data = path.join(scratch, "data");
    for (const name of ["down", "left", "right", "rotate_cw", "up"]) {
      fs.mkdirSync(path.join(data, name), { recursive: true });
      fs.copyFileSync(video, path.join(data, name, "a.mp4"));
      fs.copyFileSync(video, path.join(data, name, "b.mp4"));
    }
    fs.mkdirSync(path.join(data, "jump"));
    const run = await vnet(["train", SPEC, "--data", data, "--epochs", "1", "--cache-dir", cache(), "-o", path.join(scratch, "run")]);
    expect(run.code, run.text).toBe(1);
    expect(run.text).toMatch(
      /error VN099 {2}the dataset has 6 classes \(down, jump, left, right, rotate_cw, up\) but tiny_r3d outputs 5; "jump" has no usable training video \(an empty class folder still counts as a class\)/,
    );
    expect(fs.existsSync(path.join(scratch, "run"))).toBe(false);
  });
});

describe("vnet features -o", () => {
  it("refuses a folder holding other files, and one inside the videos' folder, before any work", { timeout: 60_000 }, async () => {
    const videos = path.join(scratch, "videos");
    fs.mkdirSync(videos);
    execFileSync("ffmpeg", [
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=32x32:rate=25",
      "-frames:v",
      "8",
      "-pix_fmt",
      "yuv420p",
      path.join(videos, "a.mp4"),
    ]);
    fs.writeFileSync(path.join(videos, "a.npy"), "the user's own array");
    const features = (data: string, out: string) => vnet(["features", SPEC, "--weights", path.join(scratch, "no-run"), "--data", data, "-o", out]);
    const beside = await features(path.join(videos, "a.mp4"), videos);
    expect(beside.code, beside.text).toBe(2);
    expect(beside.err).toMatch(
      /error VN110 {2}-o .*videos holds other files \(a\.mp4, a\.npy\) and no features\.json: the features written there could replace them; nothing was written/,
    );
    const inside = await features(videos, path.join(videos, "features"));
    expect(inside.code, inside.text).toBe(2);
    expect(inside.err).toMatch(/error VN110 {2}-o .*features lies inside the videos' folder/);
    expect(fs.readFileSync(path.join(videos, "a.npy"), "utf8")).toBe("the user's own array");
    expect(fs.readdirSync(videos).sort()).toEqual(["a.mp4", "a.npy"]);
  });
});
