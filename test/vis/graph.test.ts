/**
 * Network drawings (src/vis/graph): the drawing model of every spec kind (lanes, groups, shapes
 * on edges, highlights), Graphviz's layout of it as SVG and PNG, the interactive page, and the
 * CLI. Full-size slowfast_r50 and i3d_inception are drawn too: they must stay legible (a bounded
 * number of boxes at the default depth).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { checkFiles } from "../../src/semantics/check.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { graphDot } from "../../src/vis/graph/dot.js";
import { drawGraph, graphSvg, openGroups } from "../../src/vis/graph/draw.js";
import { expandedToDepth, graphModel, visibleCount } from "../../src/vis/graph/model.js";
import { vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function spec(relative: string): CheckedNetwork {
  const file = path.join(repo, "specs", relative);
  return checkFiles([file]).networks.find((n) => n.file === file)!;
}

describe("the drawing model", () => {
  it("has every layer once, each edge with the shape it carries, and the streams as lanes", () => {
    const slowfast = spec("tiny/tiny_slowfast.vnet");
    const model = graphModel(slowfast);
    const layers = slowfast.layers.filter((l) => l.op !== "per_frame");
    expect(model.nodes.map((n) => n.name).sort()).toEqual(layers.map((l) => l.name).sort());
    expect(model.lanes.map((l) => l.name)).toEqual(["slow", "fast"]);
    expect(model.lanes[0]!.pipeline).toBe("subsample(frames = 2) -> normalize");
    const byName = new Map(model.nodes.map((n) => [n.name, n]));
    expect(byName.get("res2.slow.0.branch2.a")!.lane).toBe("slow");
    expect(byName.get("res2.fast.0.branch2.a")!.lane).toBe("fast");
    // The lateral connection widens the slow pathway; the head after joining the pathways is in no lane.
    expect(byName.get("res2.fuse")).toMatchObject({ lane: "slow", highlight: "fusion" });
    expect(byName.get("concat")).toMatchObject({ highlight: "fusion" });
    expect(byName.get("concat")!.lane).toBeUndefined();
    const edge = model.edges.find((e) => e.to === byName.get("res2.fuse")!.id && e.from === byName.get("res2.fast.0.relu")!.id)!;
    expect(edge.label).toBe("16x8x8x4");
    // Blocks: dotted prefixes within a lane, with their totals.
    const res2slow = model.groups.find((g) => g.key === "slow|res2.slow")!;
    expect(res2slow).toMatchObject({ parent: "slow|res2", depth: 2, layers: 12 });
    expect(res2slow.params).toBe(slowfast.layers.filter((l) => l.name.startsWith("res2.slow.")).reduce((s, l) => s + l.params, 0));
  });

  it("marks per_frame bodies as groups and temporal modules, and knows the two-stream towers", () => {
    const lstm = graphModel(spec("tiny/tiny_cnn_lstm.vnet"));
    expect(lstm.groups.find((g) => g.name === "cnn")).toMatchObject({ perFrame: "per_frame", layers: 9 });
    expect(lstm.nodes.find((n) => n.name === "lstm1")!.highlight).toBe("temporal");
    // The body's first conv reads the per_frame layer's input, the LSTM the body's output.
    const conv = lstm.nodes.find((n) => n.name === "cnn.conv1")!;
    expect(lstm.edges.find((e) => e.to === conv.id)!.label).toBe("8x32x32x3");
    expect(lstm.edges.find((e) => e.to === lstm.nodes.find((n) => n.name === "lstm1")!.id)!.from).toBe(lstm.nodes.find((n) => n.name === "cnn.relu_3")!.id);
    const twoStream = graphModel(spec("tiny/tiny_two_stream.vnet"));
    expect(twoStream.lanes.map((l) => l.name)).toEqual(["rgb", "flow"]);
    expect(twoStream.nodes.find((n) => n.op === "score_fusion")!.highlight).toBe("fusion");
    expect(twoStream.nodes.find((n) => n.op === "optical_flow")).toMatchObject({ kind: "stream", lane: "flow" });
    expect(graphModel(spec("tiny/tiny_early_fusion_gap.vnet")).nodes.find((n) => n.op === "stack_frames")!.highlight).toBe("fusion");
  });

  it("closes blocks into one box each", () => {
    const model = graphModel(spec("slowfast_r50.vnet"));
    expect(visibleCount(model, [])).toBeLessThan(20);
    expect(
      visibleCount(
        model,
        model.groups.map((g) => g.key),
      ),
    ).toBe(model.nodes.length);
    const dot = graphDot(model, expandedToDepth(model, 1));
    // res2 of the slow lane is open, its pathway block closed: one node with the block's totals.
    expect(dot).toContain("subgraph cluster_lane0");
    expect(dot).toMatch(/<b>res2\.slow<\/b><br\/><font point-size="8">block: 32 layers/);
  });
});

describe("vnet graph", () => {
  it("lays out every spec with Graphviz, full-size SlowFast and I3D within a legible number of boxes", async () => {
    const files = [
      "slowfast_r50.vnet",
      "i3d_inception.vnet",
      "two_stream.vnet",
      "cnn_lstm.vnet",
      ...fs.readdirSync(path.join(repo, "specs/tiny")).map((f) => `tiny/${f}`),
    ];
    for (const file of files) {
      const network = spec(file);
      const model = graphModel(network);
      const open = openGroups(model);
      expect(visibleCount(model, open), file).toBeLessThanOrEqual(64);
      const svg = await graphSvg(model);
      expect(svg, file).toMatch(/^<\?xml|^<svg|<!DOCTYPE svg/);
      // Every drawn box's title is in the picture.
      expect(svg, file).toContain(`network ${network.name}`);
    }
    // SlowFast's two pathways at the default depth: each residual block is a box, laterals shown.
    const slowfast = await graphSvg(spec("slowfast_r50.vnet"));
    for (const text of ["stream slow", "stream fast", "res4.slow.5", "res4.fast.5", "res3.fuse", "lateral · 4x28x28x640"]) expect(slowfast).toContain(text);
    const i3d = await graphSvg(spec("i3d_inception.vnet"));
    for (const text of ["Mixed_5c.concat", "Mixed_4f.Branch_3", "concat · 8x7x7x1024"]) expect(i3d).toContain(text);
  }, 180_000);

  it("writes SVG, PNG and a self-contained HTML page from the CLI", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-graph-"));
    dirs.push(dir);
    const file = path.join(repo, "specs/tiny/tiny_slowfast.vnet");
    for (const ext of ["svg", "png", "html"]) {
      const r = await vnet(["graph", file, "-o", path.join(dir, `net.${ext}`)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/tiny_slowfast: 117 layers in \d+ blocks, 2 streams \(slow, fast\)/);
    }
    const png = PNG.sync.read(fs.readFileSync(path.join(dir, "net.png")));
    expect(png.width).toBeGreaterThan(500);
    const html = fs.readFileSync(path.join(dir, "net.html"), "utf8");
    expect(html).toContain('<script id="model" type="application/json">');
    expect(html).toContain("data:text/javascript;base64,");
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect((await vnet(["graph", file, "--depth", "0", "-o", path.join(dir, "closed.svg")])).out).toMatch(/drawn as \d+ boxes \(0 blocks open\)/);
    expect((await vnet(["graph", file, "-o", path.join(dir, "net.jpg")])).code).toBe(2);
    expect((await vnet(["graph", file])).code).toBe(2);
    // The drawing follows the requested format.
    expect((await drawGraph(spec("tiny/tiny_r3d.vnet"), "svg")).toString("utf8")).toContain("<svg");
  }, 120_000);
});
