/**
 * Temporal strides and pools follow the arithmetic the operator really has (PyTorch's floor, or
 * ceil for ceil-mode pools, with padding): a stride that does not fit the clip is no error, only a
 * VN022 warning when it leaves frames unread, saying how many; torchvision's S3D checks at its
 * documented minimum of 14 frames; and both backends compute the same shapes and values.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../src/runtime/backend.js";
import { checkText, codes } from "../helpers.js";
import { checkSource, expectParity } from "../onnx-helpers.js";

beforeAll(async () => {
  await selectBackend({ force: "cpu" });
});

const net = (frames: number, stages: string) => `network n {
  classes = 3
  input video = clip(frames = ${frames}, size = 8)
  output video -> ${stages} -> global_avg_pool -> dense(classes)
}`;

/** The frames of the first model layer's output. */
const framesOut = (text: string) => checkText(text).networks[0]!.layers.find((l) => l.op !== "input")!.shape[0];

describe("temporal window arithmetic", () => {
  it("is PyTorch's: floor, ceil for ceil-mode pools, with padding (sizes from torch.nn)", () => {
    // torch.nn.MaxPool3d(2) and Conv3d(k=3, s=2, p=1) on 15 frames: 7 and 8; MaxPool3d(3, 2, ceil_mode) on 8: 4; AvgPool3d((2,1,1), (3,1,1)) on 9: 3.
    expect(framesOut(net(15, "maxpool3d(kernel = 2)"))).toBe(7);
    expect(framesOut(net(15, "conv3d(4, kernel = 3, stride = 2, pad = 1)"))).toBe(8);
    expect(framesOut(net(8, "maxpool3d(kernel = 3, stride = 2, ceil = true)"))).toBe(4);
    expect(framesOut(net(9, "avgpool3d(kernel = [2, 1, 1], stride = [3, 1, 1])"))).toBe(3);
  });

  it("warns (VN022) only where frames go unread, saying how many, at the stride", () => {
    expect(codes(checkText(net(15, "conv3d(4, kernel = 3, stride = 2, pad = 1)")))).toEqual([]);
    expect(codes(checkText(net(8, "maxpool3d(kernel = 3, stride = 2, ceil = true)")))).toEqual([]);
    const r = checkText(net(15, "maxpool3d(kernel = 2, stride = [2, 1, 1])"));
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      ["VN022", "warning", "temporal stride 2 over 15 frames leaves the last 1 frame unread"],
    ]);
    expect(r.diagnostics[0]!.hint).toContain("a clip of 14 frames");
    // Conv3d(k=1, s=5) on 18 frames reads frames 0, 5, 10, 15.
    expect(checkText(net(18, "conv3d(4, kernel = 1, stride = [5, 1, 1])")).diagnostics.map((d) => d.message)).toEqual([
      "temporal stride 5 over 18 frames leaves the last 2 frames unread",
    ]);
  });

  it("keeps an error where an output would be empty", () => {
    expect(codes(checkText(net(2, "maxpool3d(kernel = 3)")))).toEqual(["VN025"]);
  });

  it("torchvision's S3D checks at its documented minimum clip of 14 frames", () => {
    const text = fs
      .readFileSync(path.resolve(__dirname, "../../specs/s3d.vnet"), "utf8")
      .replace("clip(frames = 64, size = 224)", "clip(frames = 14, size = 224)");
    const result = checkText(text, { "lib/s3d.vnet": fs.readFileSync(path.resolve(__dirname, "../../specs/lib/s3d.vnet"), "utf8") });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.networks.map((n) => [n.name, n.layers.at(-1)!.shape])).toEqual([["s3d", [400]]]);
  });

  it("tfjs = ONNX Runtime where a stride leaves frames unread and a ceil pool overhangs", async () => {
    const networks = checkSource(`network uneven {
  classes = 3
  input video = clip(frames = 7, size = 6, channels = 2)
  x = video -> conv3d(4, kernel = 3, stride = 2, pad = 1) -> relu -> maxpool3d(kernel = 3, stride = 2, ceil = true)
  y = video -> avgpool3d(kernel = [2, 2, 2], stride = [3, 2, 2]) -> conv3d(4, kernel = 1)
  output [x -> global_avg_pool, y -> global_avg_pool] -> concat -> dense(classes)
}`);
    await expectParity(networks.get("uneven")!);
  });
});
