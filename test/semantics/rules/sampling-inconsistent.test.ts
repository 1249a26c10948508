import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = (train: string, input = "clip(frames = 8, size = 32)") =>
  `network n {\n  input video = ${input}\n  output video -> global_avg_pool -> dense(2)\n  sampling {\n    train { ${train} }\n  }\n}\n`;

describe("VN061 sampling-inconsistent", () => {
  it("accepts a consistent section", () => {
    expect(codes(checkText(net("frames = 8, crop = 32, scale = [36, 40]")))).toEqual([]);
  });

  it("training frames that differ from the input's", () => {
    const r = checkText(net("frames = 16"));
    expect(codes(r)).toEqual(["VN061"]);
    expect(covered(r)).toBe("frames = 16");
  });

  it("a crop that differs from the input size, a reversed or too small scale, stride with fps", () => {
    expect(codes(checkText(net("crop = 30")))).toEqual(["VN061"]);
    expect(codes(checkText(net("scale = [40, 36]")))).toEqual(["VN061"]);
    expect(codes(checkText(net("crop = 32, scale = [20, 40]")))).toEqual(["VN061"]);
    expect(codes(checkText(net("stride = 2, fps = 10")))).toEqual(["VN061"]);
  });

  it("segments that do not divide the input's frames, or that come with `choice` or several test clips", () => {
    expect(codes(checkText(net("segments = 4")))).toEqual([]);
    const r = checkText(net("segments = 3"));
    expect(codes(r)).toEqual(["VN061"]);
    expect(covered(r)).toBe("segments = 3");
    expect(codes(checkText(net('segments = 8, choice = "uniform"')))).toEqual(["VN061"]);
    expect(codes(checkText(net("segments = 8 }\n    test { clips = 3")))).toEqual(["VN061"]);
    expect(codes(checkText(net("segments = 8 }\n    test { segments = 5")))).toEqual(["VN061"]);
  });

  it("a detector's section sets its keyframe clips' timing and training's scale, crop and flip, nothing else", () => {
    const detector = (sampling: string) =>
      `network d {\n  task = "detection"\n  classes = 2\n  input video = clip(frames = 4, size = 16)\n  input boxes = boxes()\n  x = video -> temporal_pool\n  output [x, boxes] -> roi_align(resolution = 2) -> flatten -> dense(classes)\n  sampling {\n    ${sampling}\n  }\n}\n`;
    expect(codes(checkText(detector("train { frames = 4, stride = 16 }\n    test { stride = 8 }")))).toEqual([]);
    expect(codes(checkText(detector("train { fps = 15 }")))).toEqual([]);
    expect(codes(checkText(detector('train { stride = 16, scale = [20, 24], crop = 16, crop_mode = "center", flip = true }')))).toEqual([]);
    const r = checkText(detector("train { stride = 16, scale = [20, 24], jitter = 2 }"));
    expect(codes(r)).toEqual(["VN061"]);
    expect(covered(r)).toBe("jitter = 2");
    expect(r.diagnostics[0]!.message).toMatch(/training's `scale`, `crop`, `crop_mode` and `flip`.*`train.jitter` has no effect/);
    expect(r.diagnostics[0]!.hint).toMatch(/never jittered/);
    const test = checkText(detector("train { flip = true }\n    test { resize = 20 }"));
    expect(codes(test)).toEqual(["VN061"]);
    expect(covered(test)).toBe("resize = 20");
    expect(test.diagnostics[0]!.hint).toMatch(/whole frame resized to the input's H x W/);
    expect(codes(checkText(detector('train { stride = 2, choice = "uniform" }\n    test { crops = "three" }\n    short_videos = "loop"')))).toEqual([
      "VN061",
      "VN061",
      "VN061",
    ]);
    // Without scale there is nothing to crop.
    const unscaled = checkText(detector('train { crop_mode = "center", flip = true }'));
    expect(codes(unscaled)).toEqual(["VN061"]);
    expect(covered(unscaled)).toBe('crop_mode = "center"');
    expect(unscaled.diagnostics[0]!.hint).toMatch(/add `scale = \[min, max\]`/);
    // The crop is still the input's size.
    expect(codes(checkText(detector("train { crop = 12 }")))).toEqual(["VN061"]);
    // A classifier's section may say all of it.
    expect(codes(checkText(net("stride = 2, scale = [36, 40], flip = true")))).toEqual([]);
  });

  it("is checked against the input wherever the section stands", () => {
    const text =
      "network n {\n  sampling {\n    train { frames = 16 }\n  }\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(2)\n}\n";
    expect(codes(checkText(text))).toEqual(["VN061"]);
  });
});
