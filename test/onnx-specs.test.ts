/**
 * Every spec of specs/ at a small input (the same layers and weights; only dense layers after a
 * flatten shrink): it exports with every declared weight as an initializer, ONNX Runtime runs it,
 * and it equals tfjs within 1e-4. tfjs runs on the wasm backend here, whose XNNPACK convolutions
 * (3D ones as 2D convs per temporal tap) make even i3d_inception at 16x224x224 (28 GMAC) a matter
 * of seconds. Every spec's full-size export and run are measured by bench/onnx.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkResized, SMALL_INPUTS, trainedLikeWeights } from "../bench/lib/onnx-fixtures.js";
import { decodeModel, exportOnnx } from "../src/backends/onnx/index.js";
import { selectBackend } from "../src/runtime/backend.js";
import { loadOnnxModel, runOnnx } from "../src/runtime/onnx.js";
import { totals } from "../src/semantics/network.js";
import { expectParity, random } from "./onnx-helpers.js";

const SPECS = path.resolve(__dirname, "../specs");
const files = fs
  .readdirSync(SPECS)
  .filter((f) => f.endsWith(".vnet"))
  .sort();
/** The most multiply-accumulates whose tfjs forward pass this suite affords per spec (all of specs/ at these inputs). */
const TFJS_MACS = 30e9;

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

describe("every full-size spec at a small input: exports, runs in ONNX Runtime, and equals tfjs", () => {
  for (const file of files) {
    const name = file.replace(/\.vnet$/, "");
    it(file, async () => {
      const [frames, size] = SMALL_INPUTS[name]!;
      const spec = checkResized(path.join(SPECS, file), frames, size);
      if (totals(spec.network).macs <= TFJS_MACS) {
        await expectParity(spec, { seed: 7, batches: [1], sample: false });
        return;
      }
      const result = exportOnnx(spec.graph, { weights: trainedLikeWeights(2), sources: spec.sources });
      expect(result.diagnostics).toEqual([]);
      const declared = spec.graph.nodes.flatMap((n) => n.weights ?? []).map((w) => w.name);
      expect(
        decodeModel(result.bytes!)
          .graph!.initializer!.filter((t) => !t.name!.includes("/"))
          .map((t) => t.name)
          .sort(),
      ).toEqual([...declared].sort());
      const onnx = await loadOnnxModel(result.bytes!);
      const feeds = Object.fromEntries(onnx.inputs.map((i, k) => [i.name, random([1, ...i.shape], k + 1)]));
      const { logits, probabilities } = await runOnnx(onnx, feeds);
      expect(logits.shape).toEqual([1, spec.network.classes]);
      expect(logits.data.every(Number.isFinite) && probabilities.data.every(Number.isFinite)).toBe(true);
      await onnx.session.release();
    });
  }
});
