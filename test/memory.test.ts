/** Activation memory (src/semantics/memory.ts): counted by hand on small networks. */
import { describe, expect, it } from "vitest";
import { activationMemory, formatBytes } from "../src/semantics/memory.js";
import { formatSummary, summarize } from "../src/semantics/summary.js";
import { checkText } from "./helpers.js";

function network(text: string) {
  const result = checkText(text);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.networks[0]!;
}

describe("activation memory", () => {
  it("sums the layer outputs of a clip, frees each after its last reader, and estimates training", () => {
    const n = network(`network n {
  classes = 3
  input video = clip(frames = 2, size = 4)
  stream rgb = video -> normalize(mean = [0.5], std = [0.5])
  output rgb -> conv3d(2, kernel = 1) -> relu -> global_avg_pool -> dense(classes)
  training { optimizer = "adam", batch = 5 }
}`);
    const memory = activationMemory(n);
    // conv [2, 4, 4, 2] = 64, relu 64, pool 2, dense 3 floats; the stream runs in the data pipeline.
    expect(memory.forward).toBe((64 + 64 + 2 + 3) * 4);
    // Peak: the input clip [2, 4, 4, 3] = 96 and the conv's output 64 at once.
    expect(memory.peak).toBe((96 + 64) * 4);
    // conv 3*2 + 2, dense 2*3 + 3 = 17 weights; adam: weight, gradient and two moments.
    expect(memory.training).toMatchObject({ batch: 5, optimizer: "adam", optimizerSlots: 2, activations: 5 * 2 * memory.forward, parameters: 17 * 4 * 4 });
    expect(memory.training.total).toBe(memory.training.activations + memory.training.parameters);
  });

  it("keeps a residual input alive until the add that reads it", () => {
    const n = network(`network n {
  classes = 3
  input video = clip(frames = 1, size = 4)
  x = video -> conv3d(3, kernel = 1) as a
  y = x -> relu -> relu as r2
  output [x, y] -> add -> global_avg_pool -> dense(classes)
}`);
    // 16 positions x 3 channels = 48 per map: input, a, relu, r2, add; then 3, 3.
    const memory = activationMemory(n);
    expect(memory.forward).toBe((48 * 4 + 3 + 3) * 4);
    // While r2 runs: a (kept for the add), relu (its input) and r2; the input is freed after a.
    expect(memory.peak).toBe(3 * 48 * 4);
    // Plain SGD keeps no slots; the spec's default batch is 8.
    expect(activationMemory(n, { optimizer: "sgd" }).training.batch).toBe(8);
  });

  it("counts a per_frame body once per frame and runs its frames at once", () => {
    const n = network(`network n {
  classes = 2
  input video = clip(frames = 3, size = 4)
  output video -> per_frame { conv2d(2, kernel = 1) -> global_avg_pool -> dense(classes) } -> temporal_pool
}`);
    // Per frame: conv [4, 4, 2] = 32, pool 2, dense 2 -> 36 x 3 frames; temporal_pool 2.
    const memory = activationMemory(n);
    expect(memory.forward).toBe((36 * 3 + 2) * 4);
    // The clip (48 x 3 = 144) and the body's peak over its frames (conv 32 and input... the
    // frame is the clip's, already counted): 3 x 32, then 3 x (32 + 2).
    expect(memory.peak).toBe((144 + 3 * (32 + 2)) * 4);
  });

  it("is in the summary, as text and as JSON", () => {
    const summary = summarize(
      network(`network n {
  classes = 3
  input video = clip(frames = 2, size = 4)
  output video -> conv3d(2, kernel = 1) -> global_avg_pool -> dense(classes)
}`),
    );
    expect(summary.memory.forward).toBe((64 + 2 + 3) * 4);
    const text = formatSummary(summary);
    expect(text).toContain("activations per clip: 276 B forward");
    expect(text).toMatch(/training estimate: +[\d.]+ KiB at batch 8/);
    expect(JSON.parse(JSON.stringify(summary)).memory.training.batch).toBe(8);
  });

  it("formats bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3.5 * 1024)).toBe("3.50 KiB");
    expect(formatBytes(45.25 * 1024 ** 2)).toBe("45.3 MiB");
    expect(formatBytes(150 * 1024 ** 3)).toBe("150 GiB");
  });
});
