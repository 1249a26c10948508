/**
 * The package as a user installs it: a project with `vnet` in its node_modules imports it by name
 * (package.json `exports`), checks a spec, lowers it, builds its tfjs model, exports it to ONNX and runs that in
 * ONNX Runtime through the public API alone; `vnet/prettier` is the formatter plugin.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "..");

const CONSUMER = `
import * as vnet from "vnet";
import plugin from "vnet/prettier";
const result = vnet.checkFiles([process.argv[2]]);
if (vnet.hasErrors(result.diagnostics)) throw new Error("errors");
const network = result.networks[0];
await vnet.selectBackend({ force: "cpu" });
const graph = vnet.lowerNetwork(network);
const { model } = vnet.emitTfjs(graph, { seed: 1 });
const exported = vnet.exportOnnx(graph, { weights: vnet.WeightStore.ofModel(model, "fresh"), sources: vnet.programSources(result) });
const onnx = await vnet.loadOnnxModel(exported.bytes);
const input = onnx.inputs[0];
const shape = [1, ...input.shape];
const scores = await vnet.runOnnx(onnx, { [input.name]: { data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape } });
console.log(JSON.stringify({
  network: network.name,
  parameters: vnet.totals(network).trainable,
  layers: model.layers.length,
  probabilities: Array.from(scores.probabilities.data).reduce((a, b) => a + b, 0),
  parsers: Object.keys(plugin.parsers),
  exitCode: await vnet.main(["codes"], { out: () => {} }),
}));
`;

describe("the package by name", () => {
  it("a project that depends on vnet imports `vnet` and `vnet/prettier` and runs the pipeline", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-consumer-"));
    fs.mkdirSync(path.join(project, "node_modules"));
    fs.symlinkSync(repo, path.join(project, "node_modules", "vnet"), "dir");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", dependencies: { vnet: "*" } }));
    fs.writeFileSync(path.join(project, "consumer.js"), CONSUMER);
    const output = execFileSync(process.execPath, ["consumer.js", path.join(repo, "specs/tiny/tiny_r3d.vnet")], { cwd: project, encoding: "utf8" });
    const report = JSON.parse(output.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ network: "tiny_r3d", parsers: ["vnet"], exitCode: 0 });
    expect(report.parameters).toBeGreaterThan(0);
    expect(report.layers).toBeGreaterThan(3);
    expect(report.probabilities).toBeCloseTo(1, 4);
  });

  it("package.json exports point at built modules with type declarations", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { exports: Record<string, { types: string; default: string }> };
    for (const [name, target] of Object.entries(pkg.exports)) {
      expect(fs.existsSync(path.join(repo, target.default)), `${name} -> ${target.default}`).toBe(true);
      expect(fs.existsSync(path.join(repo, target.types)), `${name} -> ${target.types}`).toBe(true);
      expect(target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts")).toMatch(/^src\//);
      expect(fs.existsSync(path.join(repo, target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts"))), `${name}: source`).toBe(true);
    }
  });
});
