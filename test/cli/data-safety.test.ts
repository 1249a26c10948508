/**
 * What vnet guarantees about the user's files, from the command line (issue 18): outputs that
 * would overwrite an input are refused, impossible outputs are found before any work, a run is
 * locked, resumed with its own settings and only from a checkpoint of the same architecture,
 * crashes (SIGKILL at chosen file operations, twice) and Ctrl-C lose nothing complete, and every
 * such mistake is one line with a code, never "internal error". One tiny network trains in
 * milliseconds per step so the runs stay short.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import onnxProto from "onnx-proto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeModel } from "../../src/backends/onnx/index.js";
import { findCheckpoint } from "../../src/runtime/checkpoint.js";
import { injectFaults } from "../../src/runtime/files.js";
import { type CliRun, vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const BIN = path.join(repo, "bin/vnet.js");

const SPEC = `network safe {
  classes = 3
  input video = clip(frames = 2, size = 8)
  output video -> conv3d(4, kernel = 1) as conv -> relu -> global_avg_pool -> dense(classes) as fc
}
`;
const TRAIN = ["--data", "builtin:motion", "--train-clips", "2", "--val-clips", "1", "--batch", "3", "--backend", "cpu"];

const run = (...args: string[]): Promise<CliRun> => vnet(args);

/** `vnet` in a process of its own (for kills and signals). */
function vnetProcess(args: readonly string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: project, env: { ...process.env, ...env }, encoding: "utf8" });
  return { status: r.status, signal: r.signal, out: `${r.stdout}\n${r.stderr}` };
}

let project: string;
let spec: string;
let trained: string;

/** A copy of the trained run, to damage or extend without disturbing the others. */
function copyRun(name: string): string {
  const dir = path.join(project, name);
  fs.cpSync(trained, dir, { recursive: true });
  return dir;
}

function metricsEpochs(dir: string): number[] {
  return fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
}

beforeAll(async () => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-safety-"));
  fs.writeFileSync(path.join(project, "vnet.json"), "{}");
  spec = path.join(project, "safe.vnet");
  fs.writeFileSync(spec, SPEC);
  trained = path.join(project, "trained");
  const r = await run("train", spec, ...TRAIN, "--epochs", "1", "--seed", "7", "-o", trained);
  expect(r.code, r.out + r.err).toBe(0);
});

afterEach(() => injectFaults([]));

/** Asserts one coded error line (and an optional hint), no "internal error". */
function refused(r: CliRun, code: string, exit: number, message: RegExp): void {
  expect(r.code, r.out + r.err).toBe(exit);
  expect(r.err).toMatch(new RegExp(`error ${code}  `));
  expect(r.err).toMatch(message);
  expect(r.out + r.err).not.toMatch(/internal error/);
}

describe("outputs that name or contain an input are refused before any work (VN110, VN113)", () => {
  it("compile -o the spec itself; compile --target tfjs -o a run's checkpoint; export -o into the weights", async () => {
    const before = fs.readFileSync(spec, "utf8");
    refused(await run("compile", spec, "--target", "onnx", "-o", spec), "VN110", 2, /-o .*safe\.vnet is the spec; nothing was written/);
    expect(fs.readFileSync(spec, "utf8")).toBe(before);
    const weights = fs.readFileSync(path.join(trained, "checkpoint/weights.bin"));
    refused(
      await run("compile", spec, "--target", "tfjs", "-o", path.join(trained, "checkpoint")),
      "VN110",
      2,
      /holds a training run or checkpoint, whose trained weights this would replace/,
    );
    refused(
      await run("export", spec, "--weights", trained, "-o", path.join(trained, "checkpoint/model.json")),
      "VN110",
      2,
      /is the weights being exported|lies inside the weights being exported/,
    );
    expect(fs.readFileSync(path.join(trained, "checkpoint/weights.bin"))).toEqual(weights);
  });

  it("eval --confusion-png into the checkpoint is refused before evaluating; beside it is fine", async () => {
    const weights = fs.readFileSync(path.join(trained, "checkpoint/weights.bin"));
    const r = await run(
      "eval",
      spec,
      "--weights",
      trained,
      "--data",
      "builtin:motion",
      "--val-clips",
      "1",
      "--confusion-png",
      path.join(trained, "checkpoint/weights.bin"),
    );
    refused(r, "VN110", 2, /lies inside the weights being evaluated/);
    expect(r.out).not.toMatch(/top-1/);
    expect(fs.readFileSync(path.join(trained, "checkpoint/weights.bin"))).toEqual(weights);
    const ok = await run(
      "eval",
      spec,
      "--weights",
      trained,
      "--data",
      "builtin:motion",
      "--val-clips",
      "1",
      "--confusion-png",
      path.join(project, "confusion.png"),
    );
    expect(ok.code, ok.err).toBe(0);
  });

  it("train -o an existing run without --resume (VN113), -o inside a class-folder dataset (VN110)", async () => {
    const metrics = fs.readFileSync(path.join(trained, "metrics.jsonl"), "utf8");
    refused(await run("train", spec, ...TRAIN, "-o", trained), "VN113", 2, /already holds a run .* continue it with --resume/s);
    expect(fs.readFileSync(path.join(trained, "metrics.jsonl"), "utf8")).toBe(metrics);
    const folder = path.join(project, "videos");
    for (const c of ["a", "b", "c"]) fs.mkdirSync(path.join(folder, "train", c), { recursive: true });
    const entries = fs.readdirSync(folder);
    refused(await run("train", spec, "--data", folder, "-o", path.join(folder, "train", "run")), "VN110", 2, /lies inside the dataset folder/);
    expect(fs.readdirSync(folder)).toEqual(entries);
    expect(fs.readdirSync(path.join(folder, "train")).sort()).toEqual(["a", "b", "c"]);
  });
});

describe("impossible outputs are found before any work (VN111)", () => {
  it("a file where a directory goes, a directory where a file goes, a place nothing can be created", async () => {
    const file = path.join(project, "a-file");
    fs.writeFileSync(file, "x");
    refused(
      await run("compile", spec, "--target", "tfjs", "-o", path.join(file, "model")),
      "VN111",
      1,
      /a-file is a file, not a directory|a part of the path is a file/,
    );
    refused(await run("train", spec, ...TRAIN, "-o", file), "VN111", 2, /it is a file; a run is a directory/);
    refused(await run("train", spec, ...TRAIN, "-o", path.join(file, "run")), "VN111", 1, /cannot create/);
    const dir = path.join(project, "a-dir");
    fs.mkdirSync(dir);
    const evaluated = await run("eval", spec, "--weights", trained, "--data", "builtin:motion", "--confusion-png", dir);
    refused(evaluated, "VN111", 2, /it is a directory; this output is one file/);
    expect(evaluated.out).not.toMatch(/top-1/);
    if (fs.existsSync("/proc/self")) {
      // Node's recursive mkdir never returns under /proc; vnet creates one level at a time.
      refused(await run("export", spec, "--weights", trained, "-o", "/proc/vnet-none/model.onnx"), "VN111", 1, /cannot create \/proc\/vnet-none/);
      refused(await run("data", "synth", "--out", "/proc/vnet-none"), "VN111", 1, /cannot create/);
      refused(await run("train", spec, ...TRAIN, "-o", "/proc/vnet-run"), "VN111", 1, /cannot create/);
    }
  });

  it("fmt leaves a read-only spec untouched (VN111) and formats the others", async () => {
    const messy = "network   m {\n input video=clip(frames=4,size=16)\n output video->global_avg_pool   ->dense(3)\n}\n";
    const readOnly = path.join(project, "ro.vnet");
    const writable = path.join(project, "rw.vnet");
    fs.writeFileSync(readOnly, messy);
    fs.writeFileSync(writable, messy);
    fs.chmodSync(readOnly, 0o444);
    const r = await run("fmt", readOnly, writable);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ro\.vnet {2}error VN111 {2}cannot write .*ro\.vnet: the file is read-only/);
    expect(fs.readFileSync(readOnly, "utf8")).toBe(messy);
    expect(fs.readFileSync(writable, "utf8")).not.toBe(messy);
  });

  it("check over a symbolic-link loop: one located VN031 line, no internal error; a directory loop is walked once", async () => {
    const dir = path.join(project, "links");
    fs.mkdirSync(dir);
    fs.copyFileSync(spec, path.join(dir, "ok.vnet"));
    fs.symlinkSync(".", path.join(dir, "self"));
    expect((await run("check", dir)).code).toBe(0);
    fs.symlinkSync("loop.vnet", path.join(dir, "loop.vnet"));
    const looped = await run("check", dir);
    expect(looped.code).toBe(1);
    expect(looped.out).toMatch(/loop\.vnet:1:1 {2}error VN031 {2}.*its symbolic links form a loop/);
    expect(looped.out + looped.err).not.toMatch(/internal error/);
  });
});

describe("resuming and loading a run", () => {
  it("--resume without a checkpoint is VN115; with a damaged one VN100, before any data is loaded", async () => {
    const empty = path.join(project, "empty-run");
    fs.mkdirSync(empty);
    refused(await run("train", spec, ...TRAIN, "--epochs", "2", "-o", empty, "--resume"), "VN115", 1, /holds no checkpoint/);
    const torn = copyRun("torn");
    fs.truncateSync(path.join(torn, "checkpoint/weights.bin"), 100);
    const r = await run("train", spec, ...TRAIN, "--epochs", "2", "-o", torn, "--resume");
    refused(r, "VN100", 1, /no complete checkpoint: checkpoint: weights\.bin has 100 bytes/);
    expect(r.out).not.toMatch(/training safe/);
    const garbage = copyRun("garbage");
    fs.writeFileSync(path.join(garbage, "checkpoint/progress.json"), "{");
    refused(await run("train", spec, ...TRAIN, "--epochs", "2", "-o", garbage, "--resume"), "VN100", 1, /progress\.json is not valid JSON/);
  });

  it("a checkpoint of another architecture is refused by train --resume (VN116) and by eval, predict and export (VN082), before any work", async () => {
    const wider = path.join(project, "wider.vnet");
    fs.writeFileSync(wider, SPEC.replace("conv3d(4,", "conv3d(6,"));
    const message =
      /belong to another architecture than safe in wider\.vnet: conv\/kernel is \[1, 1, 1, 3, 4\] in the checkpoint and \[1, 1, 1, 3, 6\] in the spec/;
    const resumed = await run("train", wider, ...TRAIN, "--epochs", "2", "-o", copyRun("wider-run"), "--resume");
    refused(resumed, "VN116", 1, message);
    expect(resumed.err).toMatch(/wider\.vnet:\d+:1 {2}error VN116/);
    expect(resumed.out).not.toMatch(/training safe/);
    // The spec's model takes the stored weights by name: a weight of another shape is located at its layer.
    const located = (r: CliRun) => {
      expect(r.code, r.out + r.err).toBe(1);
      expect(r.out + r.err).toMatch(/wider\.vnet:\d+:\d+ {2}error VN082 {2}.*conv\/kernel|conv\.kernel/);
      expect(r.out + r.err).not.toMatch(/internal error/);
    };
    const evaluated = await run("eval", wider, "--weights", trained, "--data", "builtin:motion");
    located(evaluated);
    expect(evaluated.out).not.toMatch(/top-1/);
    located(await run("predict", wider, "--weights", trained, "--sample", "builtin:motion:0"));
    located(await run("export", wider, "--weights", trained, "-o", path.join(project, "wider.onnx")));
    expect(fs.existsSync(path.join(project, "wider.onnx"))).toBe(false);
    // An edit that keeps every weight (a comment) runs.
    const commented = path.join(project, "commented.vnet");
    fs.writeFileSync(commented, `// the same network\n${SPEC}`);
    const same = await run("eval", commented, "--weights", trained, "--data", "builtin:motion", "--val-clips", "1");
    expect(same.code, same.err).toBe(0);
  });

  it("--resume continues with the run's own settings; a contradicting flag is VN117", async () => {
    const dir = copyRun("settings");
    refused(
      await run("train", spec, ...TRAIN, "--epochs", "2", "-o", dir, "--resume", "--lr", "0.5", "--seed", "1"),
      "VN117",
      2,
      /--seed 1 \(the run has 7\), --lr 0\.5 \(the run has 0\.01\)/,
    );
    refused(await run("train", spec, ...TRAIN, "-o", dir, "--resume"), "VN117", 2, /has trained 1 of its 1 epochs; there is nothing left to resume/);
    // No --seed: the recorded seed 7, not the default 0.
    const r = await run("train", spec, ...TRAIN, "--epochs", "2", "-o", dir, "--resume");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/batch 3, 2 epochs, seed 7/);
    expect(findCheckpoint(dir).progress.settings).toMatchObject({ seed: 7 });
    expect(metricsEpochs(dir)).toEqual([1, 2]);
  });

  it("a second trainer on a locked run is refused (VN114) and writes nothing", async () => {
    const dir = copyRun("locked");
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { lockRun } = await import(${JSON.stringify(path.join(repo, "dist/src/runtime/run.js"))}); lockRun(${JSON.stringify(dir)}); console.log("locked"); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
    try {
      const metrics = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8");
      refused(
        await run("train", spec, ...TRAIN, "--epochs", "2", "-o", dir, "--resume"),
        "VN114",
        2,
        new RegExp(`is in use by another vnet train \\(pid ${holder.pid}`),
      );
      expect(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8")).toBe(metrics);
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    // Its holder died: the stale lock is taken over.
    expect((await run("train", spec, ...TRAIN, "--epochs", "2", "-o", dir, "--resume")).code).toBe(0);
  });
});

describe("crashes, a full disk and Ctrl-C lose nothing complete", () => {
  it("SIGKILL in the checkpoint swap, then again while recovering: --resume continues from the newest complete checkpoint", () => {
    const dir = path.join(project, "killed");
    const args = ["train", spec, ...TRAIN, "-o", dir];
    // Epoch 1's checkpoint is renamed into place (rename 1); epoch 2 renames checkpoint -> .old (2) and dies before its own rename (3).
    const first = vnetProcess([...args, "--epochs", "2"], { VNET_FAULT: "rename:3:kill" });
    expect(first.signal, first.out).toBe("SIGKILL");
    const left = fs
      .readdirSync(dir)
      .filter((e) => e.startsWith("checkpoint"))
      .sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toBe("checkpoint.old");
    expect(left[1]).toMatch(/^checkpoint\.tmp-/);
    // Recovery's own rename dies too.
    const second = vnetProcess([...args, "--epochs", "3", "--resume"], { VNET_FAULT: "rename:1:kill" });
    expect(second.signal, second.out).toBe("SIGKILL");
    const third = vnetProcess([...args, "--epochs", "3", "--resume"]);
    expect(third.status, third.out).toBe(0);
    expect(third.out).toMatch(/resuming safe after epoch 2 from .*checkpoint/);
    expect(metricsEpochs(dir)).toEqual([1, 2, 3]);
    expect(fs.readdirSync(dir).sort()).toEqual(["checkpoint", "metrics.jsonl"]);
  });

  it("a full disk stops training with VN112 and keeps the previous checkpoint", async () => {
    const dir = path.join(project, "full");
    // Epoch 1 writes its checkpoint's four files; the fifth write (epoch 2's first) fails.
    injectFaults("write:5:ENOSPC");
    const r = await run("train", spec, ...TRAIN, "--epochs", "2", "-o", dir);
    refused(r, "VN112", 1, /no space left on the device \(ENOSPC\); the previous checkpoint .*checkpoint is kept/);
    expect(findCheckpoint(dir).progress.epoch).toBe(1);
  });

  it("Ctrl-C stops after the current step, names the last checkpoint and the exact --resume command, which works", async () => {
    const dir = path.join(project, "interrupted");
    const child = spawn(
      process.execPath,
      [
        BIN,
        "train",
        spec,
        "--data",
        "builtin:motion",
        "--train-clips",
        "160",
        "--val-clips",
        "1",
        "--batch",
        "2",
        // tfjs's cpu backend: ONNX Runtime can finish the next epochs before the signal arrives.
        "--engine",
        "tfjs",
        "--backend",
        "cpu",
        "--epochs",
        "6",
        "-o",
        dir,
      ],
      { cwd: project, stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stdout!.resume();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        err += chunk.toString();
        // The first epoch has ended (its checkpoint is written right after this line): interrupt the second.
        if (/epoch 1\/6 .*\| val/.test(err)) resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(err).toMatch(
      /vnet: interrupted in epoch \d after step \d+ of \d+; the unfinished epoch is dropped and the last checkpoint is .*checkpoint \(after epoch \d\)/,
    );
    const command = /continue with: (.*)/.exec(err)?.[1];
    expect(command).toBe(`vnet train ${spec} --data builtin:motion -o ${dir} --resume`);
    const done = findCheckpoint(dir).progress.epoch;
    expect(metricsEpochs(dir)).toEqual(Array.from({ length: done }, (_, i) => i + 1));
    expect(fs.existsSync(path.join(dir, "train.lock"))).toBe(false);
    // The printed command, as the user would run it, continues the run to its end.
    const resumed = vnetProcess(command!.split(" ").slice(1));
    expect(resumed.status, resumed.out).toBe(0);
    expect(metricsEpochs(dir)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("non-finite values are errors", () => {
  it("weights import refuses an ONNX file with NaN weights (the parity check cannot pass on NaN)", async () => {
    const source = path.join(repo, "test/fixtures/onnx/tiny_flatten.onnx");
    const model = decodeModel(fs.readFileSync(source));
    const initializer = model.graph!.initializer!.find((t) => (t.dims ?? []).length > 1)!;
    const values = new Float32Array(
      initializer.rawData!.length ? new Uint8Array(initializer.rawData!).slice().buffer : Float32Array.from(initializer.floatData ?? []).buffer,
    );
    values[0] = Number.NaN;
    if (initializer.rawData!.length) initializer.rawData = new Uint8Array(values.buffer);
    else initializer.floatData = Array.from(values);
    const broken = path.join(project, "nan.onnx");
    fs.writeFileSync(broken, onnxProto.onnx.ModelProto.encode(model).finish());
    const out = path.join(project, "nan-import");
    const r = await run("weights", "import", broken, "--spec", path.join(repo, "test/fixtures/onnx/tiny_flatten.vnet"), "-o", out, "--backend", "cpu");
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/error VN118 {2}.*nan\.onnx: \S+ holds 1 NaN or infinite value\(s\)/);
    expect(fs.existsSync(path.join(out, "model.json"))).toBe(false);
  });

  it("predict refuses to rank NaN scores (VN118)", async () => {
    const dir = path.join(project, "huge");
    expect((await run("compile", spec, "--target", "tfjs", "-o", dir, "--backend", "cpu")).code).toBe(0);
    // Finite weights whose products overflow: the scores become NaN.
    const bytes = fs.readFileSync(path.join(dir, "weights.bin"));
    const weights = new Float32Array(bytes.byteLength / 4).fill(3e38);
    fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(weights.buffer));
    refused(
      await run("predict", spec, "--weights", dir, "--sample", "builtin:motion:0"),
      "VN118",
      1,
      /hold \d+ NaN or infinite value\(s\) of 3; there is no ranking to print/,
    );
  });
});
