import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cachedFlow, flowCacheStats, flowStreams, type FlowStream } from "../src/data/flow.js";
import { openDataset } from "../src/data/folder.js";
import { formatIssue, skippedSummary } from "../src/data/issues.js";
import { ViewLoader } from "../src/data/loader.js";
import { motionVideos } from "../src/data/motion.js";
import { testPlans, type ClipPlan } from "../src/data/sampling.js";
import { decodeFrames, selectRuns } from "../src/data/video/decode.js";
import { encodeVideo } from "../src/data/video/encode.js";
import { runFfmpeg } from "../src/data/video/ffmpeg.js";
import { parseProbe, probeVideo } from "../src/data/video/probe.js";
import { fileSource, loadViews, testViews, type FrameSource } from "../src/data/views.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { averageViews, scoresFromOutput } from "../src/runtime/scores.js";
import { checkText } from "./helpers.js";

let scratch: string;
let cacheDir: string;
/** A 24-frame 32x32 motion video and its frames. */
let motion: { file: string; pixels: Float32Array };
/** A 40-frame video whose frame k is a flat colour with red = 6k, with a 2-pixel grating moving right. */
let numbered: string;

const SIZE = 32;
const PLANE = SIZE * SIZE * 3;

function numberedFrames(frames: number, width: number, height: number, shift = 1): Float32Array {
  const out = new Float32Array(frames * width * height * 3);
  for (let t = 0; t < frames; t++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = ((t * height + y) * width + x) * 3;
        out[o] = (6 * t) / 255;
        out[o + 1] = 0.5 + 0.3 * Math.sin((x - shift * t) * 0.6) * Math.cos(y * 0.35);
        out[o + 2] = 0.5;
      }
    }
  }
  return out;
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-video-"));
  cacheDir = path.join(scratch, "cache");
  const video = motionVideos({ classes: 2, size: SIZE, seed: 4 }, "train", 1, () => 24).next().value!;
  motion = { file: path.join(scratch, "motion.mp4"), pixels: video.pixels };
  await encodeVideo(motion.file, video.pixels, { width: SIZE, height: SIZE, fps: 25 });
  numbered = path.join(scratch, "numbered.mp4");
  await encodeVideo(numbered, numberedFrames(40, 48, 32), { width: 48, height: 32, fps: 25 });
});

describe("ffmpeg probe and decode", () => {
  it("probes frame count, rate, size and duration once, and caches them on disk", async () => {
    const meta = await probeVideo(numbered, cacheDir);
    expect(meta).toMatchObject({ frames: 40, fps: 25, width: 48, height: 32, codec: expect.stringMatching(/h264|mpeg4/) });
    expect(meta.duration).toBeCloseTo(1.6, 1);
    expect(meta.hash).toMatch(/^[0-9a-f]{64}$/);
    const cached = fs
      .readdirSync(path.join(cacheDir, "probe"))
      .map((f) => JSON.parse(fs.readFileSync(path.join(cacheDir, "probe", f), "utf8")) as { path: string; video: unknown });
    expect(cached.find((c) => c.path === path.resolve(numbered))?.video).toEqual(meta);
  });

  it("parses ffmpeg's header, including a rotation that swaps the decoded size", () => {
    const header = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':
  Duration: 00:00:10.01, start: 0.000000, bitrate: 1200 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1920x1080, 1100 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)
    Metadata:
      rotate          : 90
Stream mapping:
frame=  300 fps=0.0 q=-0.0 Lsize=N/A`;
    expect(parseProbe(header)).toEqual({ width: 1080, height: 1920, fps: 29.97, duration: 10.01, codec: "h264", frames: 300, errors: [] });
    // vfrdet's report: rounding jitter (33 and 34 ms) is a constant rate; intervals of 40 and 80 ms are not.
    expect(parseProbe(`${header}\n[Parsed_vfrdet_0 @ 0x1] VFR:0.500000 (150/299) min: 33 max: 34 avg: 33`)?.variableRate).toBeUndefined();
    expect(parseProbe(`${header}\n[Parsed_vfrdet_0 @ 0x1] VFR:0.003344 (1/299) min: 512 max: 1024 avg: 514`)?.variableRate).toBe(true);
  });

  it("decodes the in-memory frames back (codec loss only), seeking to exact frames", async () => {
    const meta = await probeVideo(motion.file, cacheDir);
    const frames = await decodeFrames(motion.file, meta, [17, 3, 9, 3], SIZE, SIZE);
    expect([...frames.keys()]).toEqual([3, 9, 17]);
    for (const [index, bytes] of frames) {
      let error = 0;
      for (let i = 0; i < PLANE; i++) error += Math.abs(bytes[i]! / 255 - motion.pixels[index * PLANE + i]!);
      expect(error / PLANE, `frame ${index}`).toBeLessThan(0.04);
    }
    const numberedMeta = await probeVideo(numbered, cacheDir);
    const picked = await decodeFrames(numbered, numberedMeta, [7, 10, 12, 33], 48, 32);
    for (const [index, bytes] of picked) {
      let red = 0;
      for (let i = 0; i < 48 * 32; i++) red += bytes[i * 3]!;
      expect(Math.round(red / (48 * 32) / 6), `frame ${index}`).toBe(index);
    }
  });

  it("decodes the right frames of a variable-frame-rate video (frame n is not at n / fps seconds there)", async () => {
    // The numbered video re-timed: its first 10 frames 80 ms apart, the other 30 40 ms apart.
    const vfr = path.join(scratch, "vfr.mp4");
    const retimed = await runFfmpeg([
      "-v",
      "error",
      "-i",
      numbered,
      "-vf",
      "setpts='if(lt(N,10),2*N,N+10)/25/TB'",
      "-vsync",
      "vfr",
      "-c:v",
      "libx264",
      "-crf",
      "0",
      vfr,
    ]);
    expect(retimed.code, retimed.stderr).toBe(0);
    const meta = await probeVideo(vfr, cacheDir);
    expect(meta).toMatchObject({ frames: 40, variableRate: true });
    expect((await probeVideo(numbered, cacheDir)).variableRate).toBeUndefined();
    const picked = await decodeFrames(vfr, meta, [12, 30, 36, 37, 38, 39], 48, 32);
    expect([...picked.keys()]).toEqual([12, 30, 36, 37, 38, 39]);
    for (const [index, bytes] of picked) {
      let red = 0;
      for (let i = 0; i < 48 * 32; i++) red += bytes[i * 3]!;
      expect(Math.round(red / (48 * 32) / 6), `frame ${index}`).toBe(index);
    }
  });

  it("decodes long runs of frames: one select term per run (a term per frame overflows ffmpeg's evaluator past ~100)", async () => {
    expect(selectRuns([0, 1, 2, 5, 7, 8])).toBe("between(n\\,0\\,2)+eq(n\\,5)+between(n\\,7\\,8)");
    const long = path.join(scratch, "long.mp4");
    await encodeVideo(long, new Float32Array(150 * 16 * 16 * 3).fill(0.5), { width: 16, height: 16, fps: 25 });
    const meta = await probeVideo(long, cacheDir);
    const wanted = Array.from({ length: 150 }, (_, i) => i).filter((i) => i % 10 !== 9);
    const frames = await decodeFrames(long, meta, wanted, 16, 16);
    expect([...frames.keys()]).toEqual(wanted);
  });

  it("resizes while decoding", async () => {
    const meta = await probeVideo(numbered, cacheDir);
    const frames = await decodeFrames(numbered, meta, [0], 24, 16);
    expect(frames.get(0)!.length).toBe(24 * 16 * 3);
  });
});

/** A flow stream with the operator's defaults and `pairs` pairs over a clip of pairs + 1 frames. */
function flowStream(pairs: number, stack = true): FlowStream {
  const net = checkText(`network f {
  classes = 2
  input video = clip(frames = ${pairs + 1}, size = 32)
  stream flow = video -> optical_flow(pairs = ${pairs}, stack = ${stack})
  output flow -> ${stack ? "" : "stack_frames -> "}global_avg_pool -> dense(classes)
}`).networks[0]!;
  return flowStreams(lowerNetwork(net))[0]!;
}

/** Mean x and y of a stacked flow view [H, W, 2L] over the inner pixels, in pixels (bound 20). */
function meanFlow(values: Float32Array, width: number, height: number, channels: number, pair: number): [number, number] {
  let dx = 0;
  let dy = 0;
  let n = 0;
  for (let y = 6; y < height - 6; y++) {
    for (let x = 6; x < width - 6; x++) {
      dx += values[(y * width + x) * channels + 2 * pair]! * 20;
      dy += values[(y * width + x) * channels + 2 * pair + 1]! * 20;
      n++;
    }
  }
  return [dx / n, dy / n];
}

describe("optical flow", () => {
  const geometry = { frames: 3, height: 32, width: 48, channels: 3 };
  const plan = (flip: boolean): ClipPlan => ({ frames: [0, 1, 2], width: 48, height: 32, crops: [{ x: 0, y: 0, flip }] });

  it("gives Farneback's displacement of a translating pattern, scaled by the bound, x negated by a flip", async () => {
    const source: FrameSource = { kind: "memory", meta: { frames: 3, fps: 25, width: 48, height: 32 }, pixels: numberedFrames(3, 48, 32, 2) };
    const stream = flowStream(2);
    expect(stream.positions).toEqual([0, 1, 2]);
    const views = await loadViews(source, plan(false), geometry, [stream]);
    expect(views.flows[0]!.length).toBe(32 * 48 * 4);
    for (const pair of [0, 1]) {
      const [dx, dy] = meanFlow(views.flows[0]!, 48, 32, 4, pair);
      expect(dx).toBeGreaterThan(1.6);
      expect(dx).toBeLessThan(2.4);
      expect(Math.abs(dy)).toBeLessThan(0.3);
    }
    const flipped = await loadViews(source, plan(true), geometry, [stream]);
    expect(meanFlow(flipped.flows[0]!, 48, 32, 4, 0)[0]).toBeCloseTo(-meanFlow(views.flows[0]!, 48, 32, 4, 0)[0], 5);
    // Unstacked: [L, H, W, 2], the same fields.
    const unstacked = await loadViews(source, plan(false), geometry, [{ ...stream, stack: false }]);
    expect(unstacked.flows[0]![(10 * 48 + 20) * 2]).toBe(views.flows[0]![(10 * 48 + 20) * 4]);
  });

  it("caches fields on disk by content hash and parameters, so a second epoch reads them", async () => {
    const meta = await probeVideo(numbered, cacheDir);
    const source: FrameSource = { kind: "file", path: numbered, meta, hash: meta.hash };
    const stream = flowStream(2);
    const before = { ...flowCacheStats };
    const first = await loadViews(source, plan(false), geometry, [stream], cacheDir);
    expect(flowCacheStats.misses - before.misses).toBe(2);
    const second = await loadViews(source, plan(false), geometry, [stream], cacheDir);
    expect(flowCacheStats.hits - before.hits).toBe(2);
    expect(flowCacheStats.misses - before.misses).toBe(2);
    expect(second.flows[0]).toEqual(first.flows[0]);
    const [dx] = meanFlow(first.flows[0]!, 48, 32, 4, 0);
    expect(dx).toBeGreaterThan(0.6);
    // Other parameters are another entry.
    let computed = false;
    cachedFlow(path.join(cacheDir, "flow", "other"), 0, 1, 4, () => ((computed = true), new Uint8Array(4)));
    expect(computed).toBe(true);
  });

  it("feeds the test protocol's views of a file (the predict path)", async () => {
    const net = checkText(`network p {
  classes = 2
  input video = clip(frames = 5, size = 24)
  stream rgb = video -> frame()
  stream flow = video -> optical_flow(pairs = 4)
  a = rgb -> global_avg_pool -> dense(classes)
  b = flow -> global_avg_pool -> dense(classes)
  output [a, b] -> score_fusion
  sampling { test { clips = 2, crops = "three", resize = 28 } }
}`).networks[0]!;
    const graph = lowerNetwork(net);
    const protocol = graph.protocol!;
    const source = await fileSource(numbered, cacheDir);
    const views = await testViews(source, protocol, { flows: flowStreams(graph), cacheDir });
    expect(views.views).toBe(6);
    expect(views.clipShape).toEqual([5, 24, 24, 3]);
    expect(views.flowShapes).toEqual([[24, 24, 8]]);
    expect(views.clips.length).toBe(6 * 5 * 24 * 24 * 3);
    expect(views.flows[0]!.length).toBe(6 * 24 * 24 * 8);
    // Two clips of 5 frames in 40: from the first frame to the last start that fits.
    const plans = testPlans(protocol, source.meta);
    expect(plans.map((p) => p.frames[0])).toEqual([0, 35]);
    // The second clip's first view (view 3: clip-major) starts at frame 35 (red = 210 / 255).
    expect(views.clips[3 * 5 * 24 * 24 * 3]! * 255).toBeCloseTo(210, -1);
  });
});

describe("datasets", () => {
  let root: string;

  beforeAll(async () => {
    root = path.join(scratch, "folder");
    for (const [cls, n] of [
      ["jump", 3],
      ["run", 2],
    ] as const) {
      fs.mkdirSync(path.join(root, cls), { recursive: true });
      for (let i = 0; i < n; i++) fs.copyFileSync(motion.file, path.join(root, cls, `${cls}_${i}.mp4`));
    }
    fs.writeFileSync(path.join(root, "jump", "empty.mp4"), "");
    fs.writeFileSync(path.join(root, "jump", "garbage.avi"), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)));
    fs.writeFileSync(path.join(root, "run", "truncated.mp4"), fs.readFileSync(motion.file).subarray(0, 1500));
    // Frame data overwritten in the middle: the container opens, frames fail to decode.
    const damaged = fs.readFileSync(motion.file);
    damaged.fill(0xff, Math.floor(damaged.length * 0.5), Math.floor(damaged.length * 0.5) + 64);
    fs.writeFileSync(path.join(root, "run", "damaged.mp4"), damaged);
    fs.writeFileSync(path.join(root, "run", "notes.txt"), "not a video\n");
    // Sound only.
    expect(
      (await runFfmpeg(["-v", "error", "-f", "lavfi", "-i", "sine=duration=0.2", "-c:a", "aac", "-f", "mp4", path.join(root, "run", "audio.mp4")])).code,
    ).toBe(0);
    fs.writeFileSync(path.join(root, "run", ".DS_Store"), "");
    fs.symlinkSync(path.join(scratch, "missing"), path.join(root, "walk"));
  });

  it("reads class folders, holds out validation videos per class, and reports every bad input with its path", async () => {
    const before = fs.readdirSync(root, { recursive: true }).map(String).sort();
    const data = await openDataset(root, { cacheDir, valFraction: 0.34 });
    expect(data.classNames).toEqual(["jump", "run"]);
    expect(data.train.map((v) => path.basename(v.name))).toEqual(["jump_0.mp4", "jump_2.mp4", "run_0.mp4"]);
    expect(data.val.map((v) => [path.basename(v.name), v.label])).toEqual([
      ["jump_1.mp4", 0],
      ["run_1.mp4", 1],
    ]);
    const issues = data.issues.map((i) => [path.relative(root, i.path), i.code]);
    expect(issues).toEqual([
      ["jump/empty.mp4", "VN091"],
      ["jump/garbage.avi", "VN092"],
      ["run/audio.mp4", "VN094"],
      ["run/damaged.mp4", "VN093"],
      ["run/notes.txt", "VN094"],
      ["run/truncated.mp4", "VN092"],
      ["walk", "VN090"],
    ]);
    expect(formatIssue(data.issues[0]!)).toMatch(/jump\/empty\.mp4 {2}warning VN091 {2}the file is empty \(0 bytes\) \(skipped\)$/);
    expect(skippedSummary(data.issues)).toBe(
      "skipped 7 inputs: 1 data-unreadable (VN090), 1 video-empty (VN091), 2 video-corrupt (VN092), 1 video-damaged (VN093), 2 video-unsupported (VN094)",
    );
    // Nothing under the dataset changed.
    expect(fs.readdirSync(root, { recursive: true }).map(String).sort()).toEqual(before);
  });

  it("reads annotation lists with index or name labels, classes.txt, and reports bad lines and labels", async () => {
    const dir = path.join(scratch, "lists");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "classes.txt"), "1 jump\n2 run\n");
    fs.writeFileSync(
      path.join(dir, "train.txt"),
      "../folder/jump/jump_0.mp4 0\n../folder/run/run_0.mp4 run\n# comment\n\n../folder/run/run_1.mp4 swim\n../folder/jump/jump_1.mp4\n../folder/jump/jump_2.mp4 7\n" +
        "../folder/jump/jump 3 é.mp4 jump\n../folder/jump/no such.mp4 0\n",
    );
    // A file name with spaces is read where the file exists; the label is the last field.
    fs.copyFileSync(path.join(scratch, "folder/jump/jump_0.mp4"), path.join(scratch, "folder/jump/jump 3 é.mp4"));
    fs.writeFileSync(path.join(dir, "val.txt"), "../folder/run/run_1.mp4 1\n../folder/jump/empty.mp4 0\n");
    const data = await openDataset(dir, { cacheDir });
    expect(data.classNames).toEqual(["jump", "run"]);
    expect(data.train.map((v) => [path.basename(v.name), v.label])).toEqual([
      ["jump_0.mp4", 0],
      ["run_0.mp4", 1],
      ["jump 3 é.mp4", 0],
    ]);
    expect(data.val.map((v) => v.label)).toEqual([1]);
    expect(data.issues.map((i) => [path.basename(i.path), i.line, i.code])).toEqual([
      ["empty.mp4", undefined, "VN091"],
      ["train.txt", 5, "VN095"],
      ["train.txt", 6, "VN096"],
      ["train.txt", 7, "VN095"],
      ["train.txt", 9, "VN096"],
    ]);
    expect(data.issues[4]!.message).toMatch(/got 3 fields: .*no such\.mp4 0" \(a path with spaces is read when the file it names exists; this one does not\)$/);
    expect(formatIssue(data.issues[1]!)).toMatch(/train\.txt:5:1 {2}warning VN095 {2}label "swim" of .*run_1\.mp4 is not one of the 2 classes \(jump, run\)/);
    // A folder with val/ but no train/ (a split to evaluate on) has splits, not a class named "val".
    const valOnly = path.join(scratch, "val-only");
    fs.mkdirSync(path.join(valOnly, "val", "jump"), { recursive: true });
    fs.copyFileSync(path.join(scratch, "folder/jump/jump_0.mp4"), path.join(valOnly, "val", "jump", "a.mp4"));
    const evaluated = await openDataset(valOnly, { cacheDir });
    expect([evaluated.classNames, evaluated.train.length, evaluated.val.map((v) => [path.basename(v.name), v.label])]).toEqual([["jump"], 0, [["a.mp4", 0]]]);
    // A video given as the dataset, or a binary file named like a list, is refused, not read as lines.
    await expect(openDataset(path.join(scratch, "folder/jump/jump_0.mp4"), { cacheDir })).rejects.toThrow(/this is a video, not a dataset: give a folder/);
    const binary = path.join(dir, "binary.txt");
    fs.copyFileSync(path.join(scratch, "folder/jump/jump_0.mp4"), binary);
    await expect(openDataset(binary, { cacheDir })).rejects.toThrow(/this is not a list file \(it holds binary data\)/);
    fs.rmSync(binary);
    // A single list file is split like a class folder; labels stay integers without class names.
    const single = await openDataset(path.join(dir, "val.txt"), { cacheDir });
    expect(single.classNames).toEqual(["jump", "run"]);
  });

  it("loads views in order through the prefetching loader, reporting a video that fails mid-training", async () => {
    const meta = await probeVideo(motion.file, cacheDir);
    const good: FrameSource = { kind: "file", path: motion.file, meta, hash: meta.hash };
    const gone = path.join(scratch, "gone.mp4");
    fs.copyFileSync(motion.file, gone);
    const vanished: FrameSource = { kind: "file", path: gone, meta, hash: meta.hash };
    fs.rmSync(gone);
    const geometry = { frames: 4, height: SIZE, width: SIZE, channels: 3 };
    const plan = (start: number): ClipPlan => ({
      frames: [start, start + 1, start + 2, start + 3],
      width: SIZE,
      height: SIZE,
      crops: [{ x: 0, y: 0, flip: false }],
    });
    const loader = new ViewLoader({ geometry, flows: [], workers: 0, prefetch: 2 });
    const tasks = [0, 5, 10, 15].map((s) => ({ source: s === 10 ? vanished : good, plan: plan(s) }));
    const failed: number[] = [];
    const batches = [];
    for await (const batch of loader.batches(tasks, 2, (task) => failed.push(task.plan.frames[0]!))) batches.push(batch.tasks.map((t) => t.plan.frames[0]));
    await loader.close();
    expect(batches).toEqual([[0, 5], [15]]);
    expect(failed).toEqual([10]);
  });
});

describe("view averaging", () => {
  // Two views of three classes.
  const logits = new Float32Array([2, 0, 0, 0, 0, 3]);
  const softmax = (row: number[]) => row.map((v) => Math.exp(v) / row.reduce((a, b) => a + Math.exp(b), 0));
  const views = (data: Float32Array, kind: "logits" | "probabilities") => scoresFromOutput({ data, shape: [2, 3] }, kind);

  it("averages logits (then softmax), softmax probabilities, or takes each class's maximum probability", () => {
    const meanLogits = averageViews(views(logits, "logits"), "logits");
    softmax([1, 0, 1.5]).forEach((p, k) => expect(meanLogits[k]).toBeCloseTo(p, 6));
    const [a, b] = [softmax([2, 0, 0]), softmax([0, 0, 3])];
    const mean = averageViews(views(logits, "logits"), "softmax");
    a.forEach((p, k) => expect(mean[k]).toBeCloseTo((p + b[k]!) / 2, 6));
    const max = averageViews(views(logits, "logits"), "max");
    a.forEach((p, k) => expect(max[k]).toBeCloseTo(Math.max(p, b[k]!), 6));
  });

  it("does not softmax a model's probabilities twice; their logits are log-probabilities", () => {
    const probabilities = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]);
    const mean = averageViews(views(probabilities, "probabilities"), "softmax");
    [0.4, 0.15, 0.45].forEach((p, k) => expect(mean[k]).toBeCloseTo(p, 6));
    // Averaged as logits: the normalised geometric mean of the probabilities.
    const geometric = [0.7 * 0.1, 0.2 * 0.1, 0.1 * 0.8].map(Math.sqrt);
    const total = geometric.reduce((x, y) => x + y, 0);
    const byLogits = averageViews(views(probabilities, "probabilities"), "logits");
    geometric.forEach((g, k) => expect(byLogits[k]).toBeCloseTo(g / total, 6));
  });
});
