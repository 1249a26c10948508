/**
 * The lecture's point on builtin:motion, measured: a model that sees several frames at once
 * (early fusion, a 3D CNN) learns classes defined by motion, a single-frame model stays near
 * chance, and so does a TSN (a 2D ResNet per frame, scores averaged) while the same network with
 * TSM's temporal shift learns them. test/lecture.test.ts checks the first two of these on both
 * training engines; this runs more networks, on ONNX Runtime by default (`--engine tfjs` trains
 * with tfjs on `--backend`, where the 3D ones are slow: wasm's conv3d is a naive loop):
 *
 *   npx tsc -p tsconfig.json && node dist/bench/motion-lecture.js [--epochs 8] [--train-clips 150] [--specs tiny_early_fusion_gap,tiny_c3d,tiny_single_frame,tiny_tsn,tiny_tsm] [--engine ort|tfjs] [--backend wasm]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { motionDataset } from "../src/data/motion.js";
import { selectBackend, describeSelection } from "../src/runtime/backend.js";
import { builtinClipShape } from "../src/data/dataset.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { checkFiles } from "../src/semantics/check.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, table, writeResults } from "./lib/harness.js";

interface LectureResult {
  readonly spec: string;
  readonly engine: string;
  readonly classes: number;
  readonly epochs: number;
  readonly trainClips: number;
  readonly bestValAccuracy: number;
  readonly finalValAccuracy: number;
  readonly clipsPerSecond: number;
  readonly seconds: number;
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const epochs = Number(flags.get("epochs") ?? 8);
  const perClass = Number(flags.get("train-clips") ?? 150);
  const specs = (flags.get("specs") ?? "tiny_early_fusion_gap,tiny_c3d,tiny_single_frame,tiny_tsn,tiny_tsm").split(",");
  const engine = flags.get("engine") ?? "ort";
  if (engine !== "ort" && engine !== "tfjs") throw new Error(`--engine ${engine}: expected ort or tfjs`);
  const selection = await selectBackend({ force: (flags.get("backend") as "wasm" | "cpu" | undefined) ?? "wasm" });
  console.log(describeMachine(machine()));
  if (engine === "tfjs") console.log(describeSelection(selection));
  const results: LectureResult[] = [];
  for (const name of specs) {
    const network = checkFiles([path.join(repoRoot(), "specs", "tiny", `${name}.vnet`)]).networks[0]!;
    const graph = lowerNetwork(network);
    const { frames, height: size } = builtinClipShape(graph.protocol!);
    const data = motionDataset({ classes: network.classes!, frames, size, trainPerClass: perClass, valPerClass: 20, seed: 1 });
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lecture-"));
    const started = performance.now();
    const {
      model,
      history,
      engine: description,
    } = await trainNetwork(graph, data, {
      engine,
      config: trainingConfig(network, { optimizer: "adam", lr: Number(flags.get("lr") ?? 0.004), batch: 16, epochs }),
      runDir,
      seed: 1,
      progress: (line, done) => process.stderr.write(done ? `\r${line}\n` : `\r${line}`),
    });
    model.dispose();
    fs.rmSync(runDir, { recursive: true, force: true });
    results.push({
      spec: name,
      engine: description,
      classes: data.classNames.length,
      epochs,
      trainClips: data.train.count,
      bestValAccuracy: Math.max(...history.map((h) => h.valAccuracy)),
      finalValAccuracy: history[history.length - 1]!.valAccuracy,
      clipsPerSecond: history.reduce((a, h) => a + h.clipsPerSecond, 0) / history.length,
      seconds: (performance.now() - started) / 1000,
    });
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    table(
      ["spec", "classes", "chance", "final val", "best val", "clips/s", "seconds"],
      results.map((r) => [
        r.spec,
        String(r.classes),
        pct(1 / r.classes),
        pct(r.finalValAccuracy),
        pct(r.bestValAccuracy),
        r.clipsPerSecond.toFixed(1),
        r.seconds.toFixed(0),
      ]),
    ),
  );
  console.log(`engine: ${results[0]?.engine ?? engine}`);
  console.log(`wrote ${writeResults("motion-lecture", { machine: machine(), engine, ...(engine === "tfjs" ? { backend: selection.choice } : {}), results })}`);
}
