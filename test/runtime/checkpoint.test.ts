/**
 * Checkpoint files (src/runtime/checkpoint.ts): every crash window of the swap, two crashes in a
 * row, a full disk, and damaged files, with faults injected at chosen write/rename/remove calls.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VnetError } from "../../src/diagnostics/error.js";
import {
  findCheckpoint,
  readCheckpoint,
  readModelDirectory,
  recoverCheckpoint,
  writeCheckpoint,
  writeModelDirectory,
  type CheckpointContents,
  type NamedTensor,
  type Tensor,
} from "../../src/runtime/checkpoint.js";
import { injectFaults, InjectedCrash } from "../../src/runtime/files.js";

function tensor(shape: number[], fill: number): Tensor {
  return { shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) };
}

function named(name: string, shape: number[], fill: number): NamedTensor {
  return { name, ...tensor(shape, fill) };
}

/** A small checkpoint whose every value is its epoch, so a read tells which epoch it holds. */
function state(epoch: number): CheckpointContents {
  return {
    model: { modelTopology: { class_name: "Model", config: { name: "tiny" } } },
    weights: [named("conv/kernel", [3, 3, 2, 4], epoch), named("conv/bias", [4], epoch)],
    optimizer: [named("conv/kernel/m", [3, 3, 2, 4], epoch / 10)],
    optimizerScalars: { accBeta1: 0.9 ** epoch },
    progress: { epoch, seed: 3, network: "tiny", optimizer: "adam", specHash: "abc", classNames: ["a", "b"], settings: { seed: 3 } },
  };
}

function runDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vnet-ckpt-"));
}

/** The epoch the newest complete checkpoint holds, read back whole (weights and optimizer agree with it). */
function newestEpoch(dir: string): number {
  const found = findCheckpoint(dir);
  const read = readCheckpoint(found.dir);
  expect(read.weights.find((w) => w.name === "conv/kernel")!.values.every((v) => v === found.progress.epoch)).toBe(true);
  expect(read.optimizer.find((t) => t.name === "conv/kernel/m")!.values[0]).toBeCloseTo(found.progress.epoch / 10);
  return found.progress.epoch;
}

function crashAt(fault: string, step: () => void): void {
  injectFaults(`${fault}:crash`);
  expect(step).toThrow(InjectedCrash);
  injectFaults([]);
}

afterEach(() => injectFaults([]));

// writeCheckpoint's calls: write weights.bin, model.json, optimizer.bin, progress.json;
// remove (a stale temporary), remove checkpoint.old, rename checkpoint -> .old, rename tmp -> checkpoint, remove .old.
const POINTS = ["write:1", "write:2", "write:3", "write:4", "remove:1", "remove:2", "rename:1", "rename:2", "remove:3"];
// With no checkpoint/ in place (after a crash between the renames): the temporary is renamed in, then .old removed.
const POINTS_AFTER_CRASH = ["write:1", "write:2", "write:3", "write:4", "remove:1", "rename:1", "remove:2"];

describe("checkpoint swap", () => {
  it("round-trips weights, optimizer state and progress", () => {
    const dir = runDir();
    const written = writeCheckpoint(dir, state(1));
    expect(written).toBe(path.join(dir, "checkpoint"));
    const read = readCheckpoint(written);
    expect(read.weights.map((w) => w.name)).toEqual(["conv/kernel", "conv/bias"]);
    expect(read.weights[1]).toEqual(named("conv/bias", [4], 1));
    expect(read.optimizer).toEqual([named("conv/kernel/m", [3, 3, 2, 4], 0.1)]);
    expect(read.optimizerScalars).toEqual({ accBeta1: 0.9 });
    expect(read.progress).toMatchObject({
      format: 1,
      epoch: 1,
      seed: 3,
      network: "tiny",
      optimizer: "adam",
      specHash: "abc",
      classNames: ["a", "b"],
      settings: { seed: 3 },
    });
    expect(read.model.modelTopology).toEqual({ class_name: "Model", config: { name: "tiny" } });
    expect(fs.readdirSync(dir)).toEqual(["checkpoint"]);
  });

  it.each(POINTS)("a crash at %s while writing epoch 2 leaves a complete checkpoint (epoch 1 or 2)", (point) => {
    const dir = runDir();
    writeCheckpoint(dir, state(1));
    crashAt(point, () => writeCheckpoint(dir, state(2)));
    const epoch = newestEpoch(dir);
    expect([1, 2]).toContain(epoch);
    // Recovery puts it in place and clears the leftovers; the next write works.
    expect(recoverCheckpoint(dir).progress.epoch).toBe(epoch);
    expect(fs.readdirSync(dir)).toEqual(["checkpoint"]);
    writeCheckpoint(dir, state(3));
    expect(newestEpoch(dir)).toBe(3);
  });

  it.each(POINTS_AFTER_CRASH)("two crashes in a row (between the renames, then at %s) never lose the last complete checkpoint", (point) => {
    const dir = runDir();
    writeCheckpoint(dir, state(1));
    // The first crash: checkpoint/ was renamed to checkpoint.old, the new one is still a temporary.
    crashAt("rename:2", () => writeCheckpoint(dir, state(2)));
    expect(fs.existsSync(path.join(dir, "checkpoint"))).toBe(false);
    expect(newestEpoch(dir)).toBe(2);
    // The second crash, anywhere in the next write (no recovery in between, as a crashed process has none).
    crashAt(point, () => writeCheckpoint(dir, state(3)));
    expect(newestEpoch(dir)).toBeGreaterThanOrEqual(2);
    recoverCheckpoint(dir);
    expect(fs.readdirSync(dir)).toEqual(["checkpoint"]);
  });

  it("a full disk fails the write with VN112, naming the checkpoint that is kept, and leaves no temporary", () => {
    const dir = runDir();
    writeCheckpoint(dir, state(1));
    injectFaults("write:1:ENOSPC");
    let error: unknown;
    try {
      writeCheckpoint(dir, state(2));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VnetError);
    expect((error as VnetError).code).toBe("VN112");
    expect((error as VnetError).message).toMatch(/no space left on the device \(ENOSPC\); the previous checkpoint .*checkpoint is kept/);
    expect(fs.readdirSync(dir)).toEqual(["checkpoint"]);
    expect(newestEpoch(dir)).toBe(1);
  });

  it("recovery keeps a damaged checkpoint/ aside and puts the newest complete one in place", () => {
    const dir = runDir();
    writeCheckpoint(dir, state(1));
    writeCheckpoint(dir, state(2));
    crashAt("rename:2", () => writeCheckpoint(dir, state(3)));
    // Now checkpoint.old (2) and a temporary (3); make a checkpoint/ that is torn.
    fs.mkdirSync(path.join(dir, "checkpoint"));
    fs.writeFileSync(path.join(dir, "checkpoint", "progress.json"), "{");
    const found = recoverCheckpoint(dir);
    expect(found.progress.epoch).toBe(3);
    expect(fs.readdirSync(dir).sort()).toEqual(["checkpoint", "checkpoint.damaged"]);
  });

  it("no checkpoint is VN115; only damaged ones is VN100 with the reason", () => {
    const dir = runDir();
    expect(() => findCheckpoint(dir)).toThrow(expect.objectContaining({ code: "VN115" }));
    expect(() => findCheckpoint(path.join(dir, "missing"))).toThrow(/does not exist/);
    writeCheckpoint(dir, state(1));
    fs.truncateSync(path.join(dir, "checkpoint", "weights.bin"), 10);
    expect(() => findCheckpoint(dir)).toThrow(
      expect.objectContaining({ code: "VN100", message: expect.stringMatching(/weights\.bin has 10 bytes, progress\.json records/) }),
    );
  });

  it("an altered file fails its recorded SHA-256", () => {
    const dir = runDir();
    const written = writeCheckpoint(dir, state(1));
    const file = path.join(written, "optimizer.bin");
    const bytes = fs.readFileSync(file);
    bytes[0] = bytes[0]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => readCheckpoint(written)).toThrow(/optimizer\.bin does not match its recorded SHA-256/);
  });
});

describe("model directories", () => {
  it("extra or missing bytes in weights.bin are VN100; NaN weights are VN118", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-model-"));
    writeModelDirectory(dir, undefined, new Map([["w", tensor([2, 3], 1)]]));
    expect(readModelDirectory(dir).weights.get("w")).toEqual(tensor([2, 3], 1));
    fs.appendFileSync(path.join(dir, "weights.bin"), Buffer.from([1, 2, 3, 4]));
    expect(() => readModelDirectory(dir)).toThrow(
      expect.objectContaining({ code: "VN100", message: expect.stringMatching(/24 bytes by the manifest, but the file has 28 \(extra bytes at the end\)/) }),
    );
    fs.truncateSync(path.join(dir, "weights.bin"), 20);
    expect(() => readModelDirectory(dir)).toThrow(/\(truncated\)/);
    writeModelDirectory(dir, undefined, new Map([["w", { shape: [2], values: Float32Array.from([1, Number.NaN]) }]]));
    expect(() => readModelDirectory(dir)).toThrow(expect.objectContaining({ code: "VN118" }));
  });
});
