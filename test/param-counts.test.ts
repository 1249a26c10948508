import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { totals } from "../src/semantics/network.js";

const specs = path.resolve(__dirname, "../specs");

/** Trainable parameters of the reference implementations (see each spec's header). */
const REFERENCE_COUNTS: Record<string, number> = {
  "r3d_18.vnet": 33_371_472,
  "mc3_18.vnet": 11_695_440,
  "r2plus1d_18.vnet": 31_505_325,
  "c3d.vnet": 78_409_573,
  "resnet50_2d.vnet": 25_557_032,
  "i3d_r50.vnet": 28_043_472,
  "slow_r50.vnet": 32_454_096,
  "nonlocal_i3d_r50.vnet": 35_401_936,
  "slowfast_r50.vnet": 34_480_216,
};

/**
 * Networks with no released parameter count: figures worked out layer by layer from the papers and
 * released prototxts (the research scripts the spec headers cite), pinned so a change shows up.
 */
const DERIVED_COUNTS: Record<string, number> = {
  "single_frame.vnet": 73_908_071,
  "early_fusion.vnet": 74_221_703,
  "late_fusion_mlp.vnet": 125_288_295,
  "late_fusion_pool.vnet": 73_908_071,
  "slow_fusion.vnet": 75_511_751,
  "two_stream.vnet": 181_335_594,
  "cnn_lstm.vnet": 65_421_285,
  "cnn_lstm_frozen.vnet": 4_483_429,
  "convlstm.vnet": 5_116_837,
  "convgru.vnet": 3_936_933,
  "inception_v1_2d.vnet": 6_624_904,
  "i3d_inception.vnet": 12_697_264,
};

/**
 * Small versions of the same architectures for fast tests. They have no reference: the counts are
 * the checker's, recorded so that a change to a shared block or a counting rule shows up here.
 */
const TINY_COUNTS: Record<string, number> = {
  "tiny/tiny_r3d.vnet": 50_521,
  "tiny/tiny_r2plus1d.vnet": 48_468,
  "tiny/tiny_resnet_2d.vnet": 23_757,
  "tiny/tiny_i3d.vnet": 31_725,
  "tiny/tiny_nonlocal.vnet": 38_741,
  "tiny/tiny_slowfast.vnet": 26_955,
  "tiny/tiny_single_frame.vnet": 22_437,
  "tiny/tiny_early_fusion.vnet": 26_037,
  "tiny/tiny_late_fusion.vnet": 38_821,
  "tiny/tiny_slow_fusion.vnet": 46_709,
  "tiny/tiny_two_stream.vnet": 32_538,
  "tiny/tiny_cnn_lstm.vnet": 36_933,
  "tiny/tiny_convlstm.vnet": 19_997,
};

/** Checks one spec, expecting no diagnostics at all and exactly one network. */
function checkClean(file: string): CheckedNetwork {
  const result = checkFiles([path.join(specs, file)]);
  expect(result.diagnostics).toEqual([]);
  expect(result.networks).toHaveLength(1);
  return result.networks[0]!;
}

/** Model layers (no inputs, no data-pipeline streams) as "name op params". */
function layerList(network: CheckedNetwork): string[] {
  return network.layers.filter((l) => l.op !== "input" && !l.stream).map((l) => `${l.name} ${l.op} ${l.params}`);
}

describe("parameter counts match the reference implementations", () => {
  for (const [file, expected] of Object.entries(REFERENCE_COUNTS)) {
    it(file, () => {
      expect(totals(checkClean(file)).trainable).toBe(expected);
    });
  }
});

describe("networks without a published count keep their derived counts", () => {
  for (const [file, expected] of Object.entries(DERIVED_COUNTS)) {
    it(file, () => {
      expect(totals(checkClean(file)).trainable).toBe(expected);
    });
  }

  it("every spec in specs/ has a pinned count", async () => {
    const fs = await import("node:fs");
    const listed = new Set([...Object.keys(REFERENCE_COUNTS), ...Object.keys(DERIVED_COUNTS)]);
    const onDisk = fs.readdirSync(specs).filter((f) => f.endsWith(".vnet"));
    expect(onDisk.filter((f) => !listed.has(f))).toEqual([]);
  });
});

describe("tiny specs check clean and keep their parameter counts", () => {
  for (const [file, expected] of Object.entries(TINY_COUNTS)) {
    it(file, () => {
      const trainable = totals(checkClean(file)).trainable;
      expect(trainable).toBe(expected);
      expect(trainable).toBeLessThan(100_000);
    });
  }
});

describe("non-local I3D is I3D plus non-local blocks", () => {
  // The non-local specs are written out in 3D because inflation cannot insert layers; removing
  // their non-local layers must give back the inflated network layer for layer.
  for (const [withNonlocal, plain, blocks] of [
    ["nonlocal_i3d_r50.vnet", "i3d_r50.vnet", 5],
    ["tiny/tiny_nonlocal.vnet", "tiny/tiny_i3d.vnet", 2],
  ] as const) {
    it(withNonlocal, () => {
      const layers = layerList(checkClean(withNonlocal));
      expect(layers.filter((l) => l.includes(" nonlocal "))).toHaveLength(blocks);
      expect(layers.filter((l) => !l.includes(" nonlocal "))).toEqual(layerList(checkClean(plain)));
    });
  }
});
