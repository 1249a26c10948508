/**
 * Where video training time goes: clip sampling, ffmpeg decoding, Farneback optical flow (fresh
 * and from the disk cache) and the prefetching loader (on this thread and in worker threads), in
 * clips per second, beside the training step's own clips per second, so a user can see which one
 * limits. Two profiles: the tiny specs' 32x32 clips (tiny_two_stream: 5 frames, 4 flow pairs;
 * tiny_r3d: 8 frames), and a C3D-like clip (16 frames, 160-pixel videos resized to 128, crop 112,
 * 10 flow pairs at 128 pixels) with a plain protocol object.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/data-throughput.js [--runs 7] [--clips 24]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main.js";
import { openDataset } from "../src/data/folder.js";
import { flowStreams, type FlowStream } from "../src/data/flow.js";
import { ViewLoader, defaultWorkers, type ViewTask } from "../src/data/loader.js";
import { motionDataset, seededRandom } from "../src/data/motion.js";
import { memorySplits, type VideoItem } from "../src/data/dataset.js";
import { trainPlans } from "../src/data/sampling.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import type { SamplingProtocol } from "../src/semantics/protocol.js";
import { loadViews, type FrameSource } from "../src/data/views.js";
import { describeSelection, selectBackend } from "../src/runtime/backend.js";
import { trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { checkFiles } from "../src/semantics/check.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, summarize, table, writeResults, type Stats } from "./lib/harness.js";

interface Row {
  readonly profile: string;
  readonly stage: string;
  readonly clipsPerSecond: Stats;
}

/** Clips per second of `fn` loading `clips` clips, over `runs` runs after one warm-up run. */
async function throughput(clips: number, runs: number, fn: () => Promise<unknown>): Promise<Stats> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(clips / ((performance.now() - started) / 1000));
  }
  return summarize(samples);
}

async function synth(dir: string, size: number, frames: number, perClass: number): Promise<void> {
  const code = await main(
    [
      "data",
      "synth",
      "--out",
      dir,
      "--classes",
      "5",
      "--size",
      String(size),
      "--frames",
      String(frames),
      "--train-per-class",
      String(perClass),
      "--val-per-class",
      "1",
    ],
    { out: () => {} },
  );
  if (code !== 0) throw new Error(`vnet data synth failed for ${dir}`);
}

/** Training tasks for `clips` clips drawn round-robin from the videos. */
function tasks(videos: readonly VideoItem[], protocol: SamplingProtocol, clips: number, seed: number): ViewTask[] {
  const random = seededRandom(seed);
  return Array.from({ length: clips }, (_, i) => {
    const source = videos[i % videos.length]!.source;
    return { source, plan: trainPlans(protocol, source.meta, random)[0]! };
  });
}

async function profile(
  name: string,
  videos: readonly VideoItem[],
  protocol: SamplingProtocol,
  flows: FlowStream[],
  clips: number,
  runs: number,
  cacheDir: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  const row = async (stage: string, fn: () => Promise<unknown>) => {
    rows.push({ profile: name, stage, clipsPerSecond: await throughput(clips, runs, fn) });
    console.error(`  ${name}: ${stage} ${rows.at(-1)!.clipsPerSecond.median.toFixed(1)} clips/s`);
  };
  let seed = 1;
  const sequential = async (flowsOf: FlowStream[], cache?: string) => {
    for (const task of tasks(videos, protocol, clips, seed++)) await loadViews(task.source, task.plan, protocol, flowsOf, cache);
  };
  await row("sampling (plans only)", async () => tasks(videos, protocol, clips, seed++));
  const first = videos[0]!.source as Extract<FrameSource, { kind: "file" }>;
  const pixels = new Float32Array(first.meta.frames * first.meta.width * first.meta.height * 3).fill(0.5);
  const memory: FrameSource = { kind: "memory", meta: first.meta, pixels };
  await row("crop + assemble (in memory)", async () => {
    for (const task of tasks(videos, protocol, clips, seed++)) await loadViews(memory, task.plan, protocol, []);
  });
  await row("decode (ffmpeg, one at a time)", () => sequential([]));
  if (flows.length) {
    const fixed = tasks(videos, protocol, clips, 99);
    const freshDir = () => fs.mkdtempSync(path.join(cacheDir, "fresh-"));
    await row("decode + flow (computed)", async () => {
      const dir = freshDir();
      for (const task of fixed) await loadViews(task.source, task.plan, protocol, flows, dir);
    });
    const warm = freshDir();
    for (const task of fixed) await loadViews(task.source, task.plan, protocol, flows, warm);
    await row("decode + flow (cached)", async () => {
      for (const task of fixed) await loadViews(task.source, task.plan, protocol, flows, warm);
    });
  }
  for (const workers of [0, defaultWorkers()]) {
    // No cache folder: flow is computed every time, the first epoch's cost. The workers start once, as in training.
    const loader = new ViewLoader({ geometry: protocol, flows, workers, prefetch: 16 });
    await row(`loader, ${workers ? `${workers} worker thread${workers > 1 ? "s" : ""}` : "this thread"}${flows.length ? ", flow uncached" : ""}`, async () => {
      for await (const result of loader.load(tasks(videos, protocol, clips, seed++))) if (!result.ok) throw result.error;
    });
    await loader.close();
  }
  return rows;
}

/** Training clips per second of a spec on in-memory clips (the step alone) and on the video folder. */
async function trainSpeed(spec: string, data: string, cacheDir: string): Promise<Row[]> {
  const network = checkFiles([path.join(repoRoot(), "specs/tiny", `${spec}.vnet`)]).networks[0]!;
  const [frames, size] = network.inputs.find((i) => i.kind === "input")!.shape as [number, number];
  const config = trainingConfig(network, { optimizer: "adam", lr: 0.002, batch: 8, epochs: 3 });
  const memory = memorySplits(motionDataset({ classes: network.classes!, frames, size, trainPerClass: 8, valPerClass: 1, seed: 1 }));
  const folder = await openDataset(data, { cacheDir });
  const rows: Row[] = [];
  for (const [stage, splits] of [
    ["train step (in-memory clips)", memory],
    ["train epoch (video folder, end to end)", folder],
  ] as const) {
    const runDir = fs.mkdtempSync(path.join(cacheDir, "run-"));
    const result = await trainNetwork(lowerNetwork(network), splits, { config, runDir, seed: 1, loading: { cacheDir } });
    result.model.dispose();
    // The first epoch warms up (JIT, opencv, flow cache); the later ones are measured.
    rows.push({ profile: spec, stage, clipsPerSecond: summarize(result.history.slice(1).map((h) => h.clipsPerSecond)) });
    console.error(`  ${spec}: ${stage} ${rows.at(-1)!.clipsPerSecond.median.toFixed(1)} clips/s`);
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const runs = Number(flags.get("runs") ?? 7);
  const clips = Number(flags.get("clips") ?? 24);
  const selection = await selectBackend({ force: "cpu" });
  console.log(describeMachine(machine()));
  console.log(describeSelection(selection));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-data-bench-"));
  const cacheDir = path.join(scratch, "cache");
  try {
    const small = path.join(scratch, "small");
    const large = path.join(scratch, "large");
    await synth(small, 32, 8, 8);
    await synth(large, 160, 16, 2);
    const smallVideos = (await openDataset(small, { cacheDir })).train;
    const largeVideos = (await openDataset(large, { cacheDir })).train;
    const twoStream = lowerNetwork(checkFiles([path.join(repoRoot(), "specs/tiny/tiny_two_stream.vnet")]).networks[0]!);
    const r3d = lowerNetwork(checkFiles([path.join(repoRoot(), "specs/tiny/tiny_r3d.vnet")]).networks[0]!);
    const c3dLike: SamplingProtocol = {
      frames: 16,
      height: 112,
      width: 112,
      channels: 3,
      train: { stride: 1, choice: "random", jitter: 0, scale: [128, 128], cropMode: "random", flip: true },
      test: { clips: 1, crops: "center", average: "softmax", resize: 128 },
      shortVideos: "loop",
    };
    const c3dFlow: FlowStream = { ...flowStreams(twoStream)[0]!, positions: Array.from({ length: 11 }, (_, i) => i + 2) };
    const rows = [
      ...(await profile("tiny_two_stream 32px T=5 L=4", smallVideos, twoStream.protocol!, flowStreams(twoStream), clips, runs, cacheDir)),
      ...(await profile("tiny_r3d 32px T=8", smallVideos, r3d.protocol!, [], clips, runs, cacheDir)),
      ...(await profile("c3d-like 160->128px crop 112 T=16 L=10", largeVideos, c3dLike, [c3dFlow], clips, Math.min(runs, 3), cacheDir)),
      ...(await trainSpeed("tiny_two_stream", small, cacheDir)),
      ...(await trainSpeed("tiny_r3d", small, cacheDir)),
    ];
    console.log(
      table(
        ["profile", "stage", "clips/s (median)", "p90 of runs", "runs"],
        rows.map((r) => [r.profile, r.stage, r.clipsPerSecond.median.toFixed(1), r.clipsPerSecond.p90.toFixed(1), String(r.clipsPerSecond.runs)]),
      ),
    );
    console.log(
      `wrote ${writeResults("data-throughput", { bench: "data-throughput", date: new Date().toISOString(), machine: machine(), backend: selection.choice, clips, runs, rows })}`,
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
