/**
 * AVA's formats (annotations grouped into multi-label boxes, proposals with scores, exclusions,
 * the label map) and the clip frames around a keyframe: `keyframeFrames` driven by a `sampling`
 * section against PySlowFast's get_sequence (test/fixtures/detection/pyslowfast_ava_sampling.json,
 * from scripts/fixtures/make_pyslowfast_ava_fixtures.py), the AVA specs' configs, and the frames
 * the folder loader decodes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  formatAvaAnnotations,
  formatAvaProposals,
  formatLabelMap,
  parseAvaAnnotations,
  parseAvaExclusions,
  parseAvaProposals,
  parseLabelMap,
} from "../../src/data/ava.js";
import { loadAvaFolder } from "../../src/data/ava-folder.js";
import { DataError } from "../../src/data/issues.js";
import { keyframeFrames, type VideoMeta } from "../../src/data/sampling.js";
import { encodeVideo } from "../../src/data/video/encode.js";
import { checkFiles } from "../../src/semantics/check.js";
import { protocolFromSection, protocolOf, type SamplingProtocol } from "../../src/semantics/protocol.js";
import { cpuScratch } from "../helpers.js";

const scratch = cpuScratch("vnet-ava-");

/** PySlowFast's get_sequence (slowfast/datasets/utils.py) as Ava.__getitem__ calls it: T x rate frames around the centre, clamped. */
function getSequence(center: number, frames: number, rate: number, videoFrames: number): number[] {
  const half = Math.floor((frames * rate) / 2);
  const seq: number[] = [];
  for (let i = center - half; i < center + half; i += rate) seq.push(Math.min(Math.max(i, 0), videoFrames - 1));
  return seq;
}

interface SamplingCase {
  readonly frames: number;
  readonly rate: number;
  readonly video_frames: number;
  readonly center: number;
  readonly indices: readonly number[];
}
const PYSLOWFAST = JSON.parse(fs.readFileSync("test/fixtures/detection/pyslowfast_ava_sampling.json", "utf8")) as { cases: SamplingCase[] };

const meta = (frames: number, fps = 30): VideoMeta => ({ frames, fps, width: 320, height: 240 });

const LABEL_MAP = `item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\nitem {\n  name: "crawl"\n  id: 3\n  label_type: PERSON_MOVEMENT\n}\n`;

describe("AVA formats", () => {
  it("reads the label map, groups one box's action rows, skips actions outside the map", () => {
    const map = parseLabelMap(LABEL_MAP, "map.pbtxt");
    expect(map).toEqual([
      { id: 1, name: "bend/bow (at the waist)" },
      { id: 3, name: "crawl" },
    ]);
    const csv =
      "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,1,0\n-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,3,0\n-5KQ66BBWC4,0902,0.332,0.194,0.481,0.891,2,1\n-5KQ66BBWC4,0903,0.1,0.2,0.3,0.4,3,1\n";
    const boxes = parseAvaAnnotations(csv, "train.csv", map);
    expect(boxes.get("-5KQ66BBWC4,902")).toEqual([{ x1: 0.077, y1: 0.151, x2: 0.283, y2: 0.811, person: 0, actions: [0, 1] }]);
    expect(boxes.get("-5KQ66BBWC4,903")![0]!.actions).toEqual([1]);
  });

  it("reads proposals with scores and excluded timestamps; writes what it reads", () => {
    const proposals = parseAvaProposals("vid,0902,0.1,0.2,0.3,0.4,,0.95\nvid,0902,0.5,0.5,0.6,0.9,,0.4\n", "p.csv");
    expect(proposals.get("vid,902")!.map((p) => p.score)).toEqual([0.95, 0.4]);
    expect(parseAvaExclusions("vid,0905\n", "x.csv").has("vid,905")).toBe(true);
    const names = ["right", "left"];
    const map = parseLabelMap(formatLabelMap(names), "m.pbtxt");
    const keyframes = [
      {
        video: "v",
        timestamp: 1,
        boxes: [{ x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4, person: 0, actions: [0, 1] }],
        proposals: [{ x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4, score: 0.9 }],
      },
    ];
    expect(parseAvaAnnotations(formatAvaAnnotations(keyframes, map), "a.csv", map).get("v,1")).toEqual(keyframes[0]!.boxes);
    expect(parseAvaProposals(formatAvaProposals(keyframes), "p.csv").get("v,1")).toEqual(keyframes[0]!.proposals);
  });

  it("refuses malformed rows with VN125 and the line", () => {
    const map = parseLabelMap(LABEL_MAP, "m");
    expect(() => parseAvaAnnotations("v,1,0.1,0.2,1.3,0.4,1,0\n", "a.csv", map)).toThrow(/line 1: box coordinates/);
    expect(() => parseAvaProposals("v,1,0.1,0.2,0.3,0.4\n", "p.csv")).toThrow(DataError);
    expect(() => parseLabelMap("labels: 3", "m.pbtxt")).toThrow(/not an AVA label map/);
  });

  it("a keyframe's clip is PySlowFast's get_sequence at the sampling section's stride, near the start, middle and end", () => {
    expect(PYSLOWFAST.cases.length).toBeGreaterThan(50);
    for (const c of PYSLOWFAST.cases) {
      const protocol = protocolFromSection([c.frames, 8, 8, 3], { train: { stride: c.rate } });
      const timestamp = c.center / 30;
      const label = `T ${c.frames} at rate ${c.rate}, keyframe at frame ${c.center} of ${c.video_frames}`;
      expect(keyframeFrames(protocol, meta(c.video_frames), timestamp, "train"), label).toEqual(c.indices);
      // Testing takes the training timing when the test section sets none.
      expect(keyframeFrames(protocol, meta(c.video_frames), timestamp, "test"), label).toEqual(c.indices);
      expect(c.indices, label).toEqual(getSequence(c.center, c.frames, c.rate, c.video_frames));
    }
    // Without a sampling section: consecutive frames, as before.
    expect(keyframeFrames(protocolFromSection([4, 8, 8, 3], undefined), meta(4, 25), 0.08, "train")).toEqual([0, 1, 2, 3]);
    expect(keyframeFrames(protocolFromSection([4, 8, 8, 3], undefined), meta(100, 25), 0, "train")).toEqual([0, 0, 0, 1]);
  });

  it("clamps at the video's ends whatever short_videos says, and tests at the test section's stride", () => {
    const looping = protocolFromSection([4, 8, 8, 3], { train: { stride: 16 }, test: { stride: 4 }, short_videos: "loop" });
    expect(keyframeFrames(looping, meta(300), 290 / 30, "train")).toEqual(getSequence(290, 4, 16, 300));
    expect(keyframeFrames(looping, meta(300), 290 / 30, "train")).toEqual([258, 274, 290, 299]);
    expect(keyframeFrames(looping, meta(300), 5, "test")).toEqual(getSequence(150, 4, 4, 300));
    // The keyframe's frame is the one nearest its time.
    expect(keyframeFrames(looping, meta(300, 29.97), 10, "train")).toEqual(getSequence(300, 4, 16, 300));
  });

  it("the AVA specs sample as their PySlowFast configs: 4 frames at rate 16, 32 at rate 2", () => {
    const protocolOfSpec = (file: string): SamplingProtocol => protocolOf(checkFiles([file]).networks[0]!)!;
    const slow = protocolOfSpec("specs/slow_r50_ava.vnet");
    const slowfast = protocolOfSpec("specs/slowfast_r50_ava.vnet");
    for (const [protocol, frames, rate] of [
      [slow, 4, 16],
      [slowfast, 32, 2],
    ] as const) {
      expect(protocol.frames).toBe(frames);
      // DATA.TRAIN_JITTER_SCALES, TRAIN_CROP_SIZE (the input) and RANDOM_FLIP.
      expect(protocol.train).toMatchObject({ scale: [256, 320], cropMode: "random", flip: true });
      expect([protocol.height, protocol.width]).toEqual([224, 224]);
      // AVA's frames are extracted at 30 fps; keyframes every second, 902 to 1798 s of a 15-minute crop starting at 900 s.
      for (const center of [0, 20, 30, 13_440, 26_910, 26_969]) {
        const video = meta(27_000);
        expect(keyframeFrames(protocol, video, center / 30, "train")).toEqual(getSequence(center, frames, rate, 27_000));
        expect(keyframeFrames(protocol, video, center / 30, "test")).toEqual(getSequence(center, frames, rate, 27_000));
      }
    }
  });

  it("the folder loader decodes the frames get_sequence picks: training keyframes at the training stride, validation's at the test stride", async () => {
    const dir = scratch();
    // Frame k of the video is grey level 5k: a decoded frame says which raw frame it is.
    const n = 48;
    const size = 16;
    const frames = new Float32Array(n * size * size * 3);
    for (let k = 0; k < n; k++) frames.fill((5 * k) / 255, k * size * size * 3, (k + 1) * size * size * 3);
    fs.mkdirSync(path.join(dir, "videos"));
    await encodeVideo(path.join(dir, "videos", "v.mp4"), frames, { width: size, height: size, fps: 8 });
    fs.writeFileSync(path.join(dir, "label_map.pbtxt"), formatLabelMap(["act"]));
    fs.writeFileSync(path.join(dir, "train.csv"), "v,0.5,0.1,0.1,0.9,0.9,1,0\nv,3,0.1,0.1,0.9,0.9,1,0\nv,5.5,0.1,0.1,0.9,0.9,1,0\n");
    fs.writeFileSync(path.join(dir, "val.csv"), "v,1,0.1,0.1,0.9,0.9,1,0\nv,5.75,0.1,0.1,0.9,0.9,1,0\n");
    const protocol = protocolFromSection([4, 8, 8, 3], { train: { stride: 3 }, test: { stride: 5 } });
    const splits = await loadAvaFolder(dir, protocol);
    const decoded = (clip: Float32Array) =>
      Array.from({ length: 4 }, (_, t) => {
        const frame = clip.subarray(t * 8 * 8 * 3, (t + 1) * 8 * 8 * 3);
        return Math.round((frame.reduce((a, b) => a + b, 0) / frame.length) * 51);
      });
    expect(splits.train.map((k) => [k.timestamp, decoded(k.clip)])).toEqual([0.5, 3, 5.5].map((t) => [t, getSequence(Math.round(t * 8), 4, 3, n)]));
    expect(splits.val.map((k) => [k.timestamp, decoded(k.clip)])).toEqual([1, 5.75].map((t) => [t, getSequence(Math.round(t * 8), 4, 5, n)]));
    // With scale jitter a training clip is kept at its largest scale (short side 12) for each step's
    // crop; validation's is the input's size.
    const jittered = await loadAvaFolder(dir, protocolFromSection([4, 8, 8, 3], { train: { stride: 3, scale: [10, 12] }, test: { stride: 5 } }));
    expect(jittered.train.map((k) => [k.size, k.clip.length])).toEqual(splits.train.map(() => [{ width: 12, height: 12 }, 4 * 12 * 12 * 3]));
    expect(jittered.val.map((k) => [k.size, k.clip.length])).toEqual(splits.val.map(() => [undefined, 4 * 8 * 8 * 3]));
  });
});
