/**
 * How much the box features buy: the tiny detector (specs/tiny/tiny_slow_ava.vnet) against its
 * frame-level baseline (specs/tiny/tiny_slow_ava_frame.vnet: the same backbone, head and training,
 * every box of a keyframe given its clip's globally pooled feature), each trained the same way by
 * `vnet train` on builtin:motion-boxes with the spec's training section, for several seeds
 * (weights and data), reporting validation frame-mAP@0.5 after every epoch. The CI test
 * (test/runtime/detection-baseline.test.ts) runs one seed of a shorter schedule of this.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/detection-baseline.js [--epochs 8] [--train-clips 96] [--val-clips 32] [--seeds 3] [--engine auto]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, summarize, table, writeResults } from "./lib/harness.js";

const SPECS = { detector: "specs/tiny/tiny_slow_ava.vnet", "frame-level baseline": "specs/tiny/tiny_slow_ava_frame.vnet" } as const;

/** One `vnet train` run: validation frame-mAP per epoch, the engine line, and the wall time. */
async function trainRun(spec: string, runDir: string, args: readonly string[]): Promise<{ maps: number[]; engine: string; seconds: number }> {
  const lines: string[] = [];
  const started = performance.now();
  const code = await main(["train", path.join(repoRoot(), spec), "--data", "builtin:motion-boxes", "-o", runDir, ...args], {
    out: (s) => void lines.push(s),
    err: (s) => void lines.push(s),
    progress: () => {},
  });
  if (code !== 0) throw new Error(`vnet train ${spec} failed:\n${lines.join("\n")}`);
  const seconds = (performance.now() - started) / 1000;
  const metrics = fs
    .readFileSync(path.join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { valMetrics?: Record<string, number> });
  return { maps: metrics.map((m) => m.valMetrics!["frame-mAP"]!), engine: lines.find((l) => l.startsWith("engine:")) ?? "", seconds };
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const epochs = flags.get("epochs") ?? "8";
  const trainClips = flags.get("train-clips") ?? "96";
  const valClips = flags.get("val-clips") ?? "32";
  const seeds = Number(flags.get("seeds") ?? 3);
  const engine = flags.get("engine") ?? "auto";
  console.log(describeMachine(machine()));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-detection-baseline-"));
  const runs: { model: string; seed: number; maps: number[]; engine: string; seconds: number }[] = [];
  try {
    for (let seed = 0; seed < seeds; seed++) {
      for (const [model, spec] of Object.entries(SPECS)) {
        const args = ["--epochs", epochs, "--train-clips", trainClips, "--val-clips", valClips, "--seed", String(seed), "--engine", engine];
        const run = await trainRun(spec, path.join(scratch, `${seed}-${path.basename(spec, ".vnet")}`), args);
        runs.push({ model, seed, ...run });
        console.error(`  seed ${seed} ${model}: frame-mAP ${run.maps.map((m) => (100 * m).toFixed(1)).join(" ")} (${run.seconds.toFixed(0)} s, ${run.engine})`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const rows = Object.keys(SPECS).map((model) => {
    const mine = runs.filter((r) => r.model === model);
    return { model, final: summarize(mine.map((r) => 100 * r.maps.at(-1)!)), perSeed: mine.map((r) => r.maps.map((m) => Number((100 * m).toFixed(1)))) };
  });
  console.log(
    table(
      ["model", "final frame-mAP@0.5 median", "min", "max", "per seed, per epoch (%)"],
      rows.map((r) => [r.model, r.final.median.toFixed(1), r.final.min.toFixed(1), r.final.max.toFixed(1), r.perSeed.map((s) => s.join(" ")).join(" | ")]),
    ),
  );
  const margins = [...Array(seeds).keys()].map((seed) => {
    const [detector, baseline] = Object.keys(SPECS).map((m) => runs.find((r) => r.model === m && r.seed === seed)!.maps.at(-1)!);
    return 100 * (detector! - baseline!);
  });
  console.log(`margin (detector - baseline), points: ${margins.map((m) => m.toFixed(1)).join(", ")}`);
  const settings = { epochs: Number(epochs), trainClips: Number(trainClips), valClips: Number(valClips), seeds, engine: runs[0]?.engine };
  console.log(
    `wrote ${writeResults("detection-baseline", { bench: "detection-baseline", date: new Date().toISOString(), machine: machine(), settings, rows, margins, runs })}`,
  );
}
