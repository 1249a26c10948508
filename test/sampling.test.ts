import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/data/motion.js";
import { resizedSize, testPlans, testStarts, trainPlans, type VideoMeta } from "../src/data/sampling.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { protocolOf as networkProtocol, viewsPerVideo, type SamplingProtocol } from "../src/semantics/protocol.js";
import { checkText } from "./helpers.js";

const protocolOf = (network: CheckedNetwork): SamplingProtocol => networkProtocol(network)!;

const spec = (sampling: string) =>
  checkText(`network n {
  classes = 3
  input video = clip(frames = 8, size = 32)
  output video -> conv3d(4, kernel = 3) -> global_avg_pool -> dense(classes)
  ${sampling}
}`).networks[0]!;

/** A protocol for an 8-frame 32x32 clip with the given train/test overrides. */
function protocol(
  train: Partial<SamplingProtocol["train"]> = {},
  test: Partial<SamplingProtocol["test"]> = {},
  shortVideos: SamplingProtocol["shortVideos"] = "loop",
): SamplingProtocol {
  return {
    frames: 8,
    height: 32,
    width: 32,
    channels: 3,
    train: { choice: "random", jitter: 0, cropMode: "random", flip: true, ...train },
    test: { clips: 1, crops: "center", average: "softmax", resize: 32, ...test },
    shortVideos,
  };
}

const video = (frames: number, width = 48, height = 36, fps = 25): VideoMeta => ({ frames, fps, width, height });

describe("protocolOf", () => {
  it("reads the sampling section with its defaults", () => {
    const p = protocolOf(
      spec(`sampling {
    train { stride = 2, scale = [36, 44], crop = 32, jitter = 1 }
    test { clips = 5, crops = "ten", resize = 40 }
    short_videos = "repeat_last"
  }`),
    );
    expect(p).toEqual({
      frames: 8,
      height: 32,
      width: 32,
      channels: 3,
      train: { stride: 2, choice: "random", jitter: 1, scale: [36, 44], cropMode: "random", flip: true },
      test: { clips: 5, crops: "ten", average: "softmax", resize: 40 },
      shortVideos: "repeat_last",
    });
    expect(viewsPerVideo(p)).toBe(50);
    // A plain JSON round trip (how an exported model stores it) samples the same.
    const again = JSON.parse(JSON.stringify(p)) as SamplingProtocol;
    expect(testPlans(again, video(100))).toEqual(testPlans(p, video(100)));
  });

  it("samples plainly without a sampling section: centre crop, no flip, test resize = input size", () => {
    const p = protocolOf(spec(""));
    expect(p.train).toEqual({ choice: "random", jitter: 0, cropMode: "center", flip: false });
    expect(p.test).toEqual({ clips: 1, crops: "center", average: "softmax", resize: 32 });
    expect(p.shortVideos).toBe("loop");
  });

  it("defaults the test resize to the smallest training scale", () => {
    expect(protocolOf(spec(`sampling { train { scale = [40, 48] } }`)).test.resize).toBe(40);
  });
});

describe("training clips", () => {
  it("take T frames `stride` apart from a random start inside the video", () => {
    const p = protocol({ stride: 3 });
    const starts = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const [plan] = trainPlans(p, video(60), seededRandom(seed));
      const f = plan!.frames;
      expect(f.map((x) => x - f[0]!)).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
      expect(f[0]).toBeGreaterThanOrEqual(0);
      expect(f[7]).toBeLessThanOrEqual(59);
      starts.add(f[0]!);
    }
    expect(starts.size).toBeGreaterThan(10);
  });

  it("resample to the spec's fps: 30 fps video at fps = 10 takes every third frame", () => {
    const [plan] = trainPlans(protocol({ fps: 10 }), video(300, 48, 36, 30), seededRandom(1));
    expect(plan!.frames.map((x) => x - plan!.frames[0]!)).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
  });

  it("jitter each frame by at most `jitter` raw frames", () => {
    for (let seed = 0; seed < 20; seed++) {
      const [plan] = trainPlans(protocol({ stride: 4, jitter: 1 }), video(200), seededRandom(seed));
      plan!.frames.forEach((f, k) => expect(Math.abs(f - (plan!.frames[0]! + 4 * k))).toBeLessThanOrEqual(2));
    }
  });

  it("loop short videos or repeat their last frame", () => {
    const loop = trainPlans(protocol({ stride: 1 }), video(5), seededRandom(0))[0]!;
    expect(loop.frames).toEqual([0, 1, 2, 3, 4, 0, 1, 2]);
    const repeat = trainPlans(protocol({ stride: 1 }, {}, "repeat_last"), video(5), seededRandom(0))[0]!;
    expect(repeat.frames).toEqual([0, 1, 2, 3, 4, 4, 4, 4]);
  });

  it("jitter the scale within `scale` and keep random crops and flips inside the frame", () => {
    const sizes = new Set<number>();
    let flips = 0;
    for (let seed = 0; seed < 60; seed++) {
      const [plan] = trainPlans(protocol({ scale: [36, 44] }), video(20, 64, 48), seededRandom(seed));
      const short = Math.min(plan!.width, plan!.height);
      expect(short).toBeGreaterThanOrEqual(36);
      expect(short).toBeLessThanOrEqual(44);
      sizes.add(short);
      const crop = plan!.crops[0]!;
      expect(crop.x + 32).toBeLessThanOrEqual(plan!.width);
      expect(crop.y + 32).toBeLessThanOrEqual(plan!.height);
      if (crop.flip) flips++;
    }
    expect(sizes.size).toBeGreaterThan(5);
    expect(flips).toBeGreaterThan(15);
    expect(flips).toBeLessThan(45);
  });

  it("start at every position (dense) or evenly spaced non-overlapping positions (uniform)", () => {
    expect(trainPlans(protocol({ choice: "dense" }), video(20), seededRandom(0)).map((p) => p.frames[0])).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(trainPlans(protocol({ choice: "uniform" }), video(26), seededRandom(0)).map((p) => p.frames[0])).toEqual([0, 9, 18]);
  });
});

describe("segment sampling (TSN; MMAction2's SampleFrames with num_clips)", () => {
  it("is read from the section; testing takes training's segments unless it sets its own", () => {
    const p = protocolOf(spec("sampling {\n    train { segments = 4 }\n  }"));
    expect([p.train.segments, p.test.segments]).toEqual([4, 4]);
    expect(protocolOf(spec("sampling {\n    train { segments = 4 }\n    test { segments = 8 }\n  }")).test.segments).toBe(8);
  });

  it("trains on one random frame (or piece) from each of K equal segments", () => {
    const random = seededRandom(3);
    const starts = new Set<number>();
    for (let draw = 0; draw < 50; draw++) {
      const [plan] = trainPlans(protocol({ segments: 8 }), video(80), random);
      plan!.frames.forEach((f, i) => {
        expect(f).toBeGreaterThanOrEqual(10 * i);
        expect(f).toBeLessThan(10 * i + 10);
      });
      starts.add(plan!.frames[0]!);
    }
    expect(starts.size).toBeGreaterThan(5);
    // Four pieces of two consecutive frames: (80 - 2 + 1) // 4 = 19 frames per segment.
    const [pieces] = trainPlans(protocol({ segments: 4 }), video(80), seededRandom(1));
    for (let i = 0; i < 4; i++) {
      expect(pieces!.frames[2 * i + 1]).toBe(pieces!.frames[2 * i]! + 1);
      expect(Math.floor(pieces!.frames[2 * i]! / 19)).toBe(i);
    }
  });

  it("tests on each segment's centre, and spreads a video shorter than K frames as numpy rounds", () => {
    expect(testPlans(protocol({ segments: 8 }, { segments: 8 }), video(80))[0]!.frames).toEqual([5, 15, 25, 35, 45, 55, 65, 75]);
    // (80 - 2 + 1) / 4 = 19.75: pieces at int(i * 19.75 + 9.875).
    expect(testPlans(protocol({}, { segments: 4 }), video(80))[0]!.frames).toEqual([9, 10, 29, 30, 49, 50, 69, 70]);
    // 5 frames, 8 segments: numpy.around(arange(8) * 5 / 8) = 0 1 1 2 2 3 4 4.
    expect(trainPlans(protocol({ segments: 8 }), video(5), seededRandom(0))[0]!.frames).toEqual([0, 1, 1, 2, 2, 3, 4, 4]);
  });
});

describe("test views", () => {
  it("place N clips evenly from the first frame to the last start that fits (MMAction2's test-mode SampleFrames)", () => {
    const plans = testPlans(protocol({}, { clips: 3 }), video(100));
    // 100 - 8 = 92 frames of room: starts 0, 46, 92.
    expect(plans.map((p) => p.frames[0])).toEqual([0, 46, 92]);
    expect(plans[1]!.frames).toEqual([46, 47, 48, 49, 50, 51, 52, 53]);
    expect(plans.at(-1)!.frames.at(-1)).toBe(99);
  });

  it("on a 20-frame video, 3 clips of 4 frames at stride 2 start at 0, 6 and 13 (numpy rounds 6.5 to even)", () => {
    const p = { ...protocol({ stride: 2 }, { clips: 3 }), frames: 4 };
    expect(testStarts(p, video(20))).toEqual([0, 6, 13]);
    expect(testPlans(p, video(20)).map((plan) => plan.frames)).toEqual([
      [0, 2, 4, 6],
      [6, 8, 10, 12],
      [13, 15, 17, 19],
    ]);
    // One clip sits in the middle of the room: floor(13 / 2).
    expect(testStarts({ ...p, test: { ...p.test, clips: 1 } }, video(20))).toEqual([6]);
  });

  it("place a 2D network's one-frame clips at the centres of equal segments (TSN)", () => {
    const p = { ...protocol({}, { clips: 10 }), frames: 1 };
    expect(testStarts(p, video(25))).toEqual([1, 3, 6, 8, 11, 13, 16, 18, 21, 23]);
    expect(testStarts({ ...p, test: { ...p.test, clips: 1 } }, video(8))).toEqual([4]);
  });

  it("use the test stride (else training's) and loop a short video from frame 0", () => {
    // Stride 2: a clip spans 15 frames; one clip starts in the middle of the 85 frames of room.
    expect(testPlans(protocol({ stride: 2 }, { clips: 1 }), video(100))[0]!.frames).toEqual([42, 44, 46, 48, 50, 52, 54, 56]);
    expect(testPlans(protocol({ stride: 2 }, { clips: 1, stride: 1 }), video(100))[0]!.frames[1]).toBe(47);
    expect(testPlans(protocol({}, { clips: 2 }), video(6)).map((p) => p.frames)).toEqual([
      [0, 1, 2, 3, 4, 5, 0, 1],
      [0, 1, 2, 3, 4, 5, 0, 1],
    ]);
    expect(testPlans(protocol({ stride: 2 }, { clips: 1 }, "repeat_last"), { ...video(5) })[0]!.frames).toEqual([0, 2, 4, 4, 4, 4, 4, 4]);
  });

  it("cut a centre crop, three crops along the long side, or ten (corners, centre, flipped)", () => {
    const meta = video(10, 64, 48);
    const size = resizedSize(protocol(), meta, 36);
    expect(size).toEqual({ width: 48, height: 36 });
    expect(testPlans(protocol({}, { resize: 36 }), meta)[0]!.crops).toEqual([{ x: 8, y: 2, flip: false }]);
    expect(testPlans(protocol({}, { resize: 36, crops: "three" }), meta)[0]!.crops).toEqual([0, 8, 16].map((x) => ({ x, y: 2, flip: false })));
    const portrait = testPlans(protocol({}, { resize: 36, crops: "three" }), video(10, 48, 64))[0]!.crops;
    expect(portrait.map((c) => c.y)).toEqual([0, 8, 16]);
    const ten = testPlans(protocol({}, { resize: 36, crops: "ten" }), meta)[0]!.crops;
    expect(ten).toHaveLength(10);
    expect(ten.slice(0, 5).map((c) => [c.x, c.y])).toEqual([
      [0, 0],
      [16, 0],
      [0, 4],
      [16, 4],
      [8, 2],
    ]);
    expect(ten.slice(5)).toEqual(ten.slice(0, 5).map((c) => ({ ...c, flip: true })));
  });

  it("enlarge a frame whose resized size would not cover the crop", () => {
    expect(resizedSize({ ...protocol(), height: 32, width: 64 }, video(1, 40, 40), 32)).toEqual({ width: 64, height: 64 });
  });
});
