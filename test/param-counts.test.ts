import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { totals } from "../src/semantics/network.js";
import { checkText } from "./helpers.js";

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
  // Counted by scripts/reference/counts.py on the reference code (see each spec's header).
  "x3d_s.vnet": 3_794_274,
  "x3d_m.vnet": 3_794_274,
  "csn_r50.vnet": 13_131_152,
  "tsm_r50.vnet": 24_327_632,
  "tsn_r50.vnet": 24_327_632,
  "s3d.vnet": 8_320_048,
  // MMAction2's BMN (bmn_400x100), counted by scripts/reference/bmn.py (a re-creation checked against MMAction2's module).
  "bmn.vnet": 4_978_564,
  // PySlowFast's AVA detectors (configs/AVA/SLOW_8x8_R50_SHORT.yaml, SLOWFAST_32x2_R50_SHORT.yaml: dilated res5,
  // ResNetRoIHead, 80 classes), counted by scripts/reference/counts.py on scripts/reference/pyslowfast_ava.py, a
  // module-for-module re-creation of video_model_builder.py that gives the Kinetics slow_r50 and slowfast_r50 counts above.
  "slow_r50_ava.vnet": 31_798_416,
  "slowfast_r50_ava.vnet": 33_828_888,
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
  "tiny/tiny_tsn.vnet": 19_829,
  "tiny/tiny_tsm.vnet": 19_829,
  "tiny/tiny_x3d.vnet": 10_743,
  // MMAction2's BMN at these widths counts the same (scripts/reference/bmn.py, TINY).
  "tiny/tiny_bmn.vnet": 20_564,
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

  it("every spec in specs/ has a pinned count", () => {
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

describe("TSM-R50 is TSN-R50 plus a temporal shift on every block's residual branch", () => {
  /** Every model layer, per_frame bodies included, as "name op params". */
  const allLayers = (network: CheckedNetwork) =>
    network.layers
      .flatMap((l) => [l, ...(l.body ?? [])])
      .filter((l) => l.op !== "input" && !l.stream)
      .map((l) => `${l.name} ${l.op} ${l.params}`);

  it("tsm_r50.vnet", () => {
    const tsm = checkClean("tsm_r50.vnet");
    const layers = allLayers(tsm);
    const shifts = tsm.layers.flatMap((l) => l.body ?? []).filter((l) => l.op === "temporal_shift");
    expect(shifts).toHaveLength(16);
    expect(shifts.every((s) => s.args.fold === 8 && s.args.frames_in_batch === 8)).toBe(true);
    expect(layers.filter((l) => !l.includes(" temporal_shift "))).toEqual(allLayers(checkClean("tsn_r50.vnet")));
    // Residual shift: each block's conv1 reads the shift; its shortcut (or downsample) reads the block input.
    const body = tsm.layers.find((l) => l.op === "per_frame")!.body!;
    const byName = new Map(body.map((l) => [l.name, l]));
    const byId = new Map(body.map((l) => [l.id, l]));
    for (const shift of shifts) {
      const block = shift.name.replace(/\.tsm\.shift$/, "");
      expect(byId.get(byName.get(`${block}.conv1`)!.inputs[0]!)!.name).toBe(shift.name);
      const skip = byName.get(`${block}.downsample`)?.inputs[0] ?? byName.get(`${block}.add`)!.inputs[1]!;
      expect(skip).toBe(shift.inputs[0]);
    }
  });
});

describe("specs/lib/resnet_2d.vnet builds torchvision's 2D ResNets", () => {
  const lib = fs.readFileSync(path.join(specs, "lib/resnet_2d.vnet"), "utf8");
  // torchvision.models.resnet18 / resnet34 / resnet50 with their 1000-way fc (torchvision's documented num_params).
  for (const [name, depths, kind, expected] of [
    ["resnet18", "[2, 2, 2, 2]", "basic", 11_689_512],
    ["resnet34", "[3, 4, 6, 3]", "basic", 21_797_672],
    ["resnet50", "[3, 4, 6, 3]", "bottleneck", 25_557_032],
  ] as const) {
    it(name, () => {
      const result = checkText(
        `import { resnet_trunk_2d } from "./lib/resnet_2d.vnet"
network ${name} {
  classes = 1000
  input image = image(size = 224)
  output image -> resnet_trunk_2d(${depths}, "${kind}") -> global_avg_pool -> dense(classes) as fc
}`,
        { "lib/resnet_2d.vnet": lib },
      );
      expect(result.diagnostics).toEqual([]);
      expect(totals(result.networks[0]!).trainable).toBe(expected);
    });
  }
});

describe("PySlowFast's AVA detectors are the Kinetics backbones with res5 dilated and ResNetRoIHead", () => {
  /** Layers of res2-res5 (no lateral fusions) as "name op params". */
  const stages = (network: CheckedNetwork) => layerList(network).filter((l) => /^res[2-5]\./.test(l) && !/\.fuse /.test(l));

  for (const [detector, classifier, pathways] of [
    ["slow_r50_ava.vnet", "slow_r50.vnet", ["s0"]],
    ["slowfast_r50_ava.vnet", "slowfast_r50.vnet", ["s0", "s1"]],
  ] as const) {
    it(detector, () => {
      const network = checkClean(detector);
      expect(network.task).toBe("detection");
      expect(stages(network)).toEqual(stages(checkClean(classifier)));
      // RESNET.SPATIAL_STRIDES [1, 2, 2, 1] and SPATIAL_DILATIONS [1, 1, 1, 2]: only res5's 3x3 convs are dilated, none strided.
      const convs = network.layers.filter((l) => l.op === "conv3d");
      const dilated = convs.filter((l) => JSON.stringify(l.args.dilation) === "[1,2,2]");
      expect(dilated.length).toBeGreaterThan(0);
      expect(dilated.every((l) => /^res5\..*branch2\.b$/.test(l.name) && JSON.stringify(l.args.stride) === "[1,1,1]")).toBe(true);
      expect(convs.filter((l) => /^res5\..*branch2\.b$/.test(l.name))).toEqual(dilated);
      // ResNetRoIHead per pathway: temporal mean, RoIAlign 7x7 at 1/16 (aligned, adaptive sampling), a 7x7 max pool.
      for (const p of pathways) {
        const roi = network.layers.find((l) => l.name === `${p}.roi`)!;
        expect(roi.args).toMatchObject({ resolution: 7, spatial_scale: 1 / 16, sampling_ratio: 0, aligned: true });
        expect(network.layers.find((l) => l.name === `${p}.tpool`)!.args.mode).toBe("mean");
        expect(network.layers.find((l) => l.name === `${p}.spool`)!.shape).toEqual([1, 1, roi.shape[2]]);
      }
      expect(network.layers.find((l) => l.name === "projection")!.shape).toEqual([80]);
    });
  }
});
