/**
 * Temporal action localization speed: snippet-feature extraction throughput (snippets per second
 * of `vnet features`' extraction: sliding-window sampling, the classifier, resampling to the
 * scale), from builtin:motion-untrimmed in memory and from the same videos as mp4 files (ffmpeg
 * decoding included); and the localization latency per video (the localizer's forward pass plus
 * BMN's post-processing: score fusion, soft-NMS, top-K, labels from the snippet scores), at batch
 * 1. tiny_early_fusion_gap extracts for tiny_bmn, with freshly initialised weights (speed does
 * not depend on them). Nothing is cached, so every run computes.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/localization.js [--runs 5] [--videos 8]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { emitTfjs } from "../src/backends/tfjs/emit.js";
import { tfjsInference } from "../src/runtime/engines/tfjs.js";
import { main } from "../src/cli/main.js";
import { readFeatures, readManifest, type FeatureVideo } from "../src/data/features.js";
import { flowStreams } from "../src/data/flow.js";
import { ViewLoader } from "../src/data/loader.js";
import { BUILTIN_UNTRIMMED, openUntrimmed, type UntrimmedSource } from "../src/data/untrimmed-sources.js";
import { describeSelection, selectBackend } from "../src/runtime/backend.js";
import { extractFeatures, featureModel, type ExtractionContext } from "../src/runtime/features.js";
import { localizeVideos } from "../src/runtime/localization/localize.js";
import { localizerGeometry } from "../src/runtime/localization/train.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { checkFiles } from "../src/semantics/check.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, summarize, table, writeResults, type Stats } from "./lib/harness.js";

const SCALE = 32;

function compiled(spec: string) {
  const network = checkFiles([path.join(repoRoot(), spec)]).networks[0]!;
  const graph = lowerNetwork(network);
  const { model } = emitTfjs(graph, { seed: 1 });
  if (!model) throw new Error(`${spec} does not compile to tfjs`);
  return { network, graph, model };
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const runs = Number(flags.get("runs") ?? 5);
  const count = Number(flags.get("videos") ?? 8);
  const selection = await selectBackend({});
  console.log(describeMachine(machine()));
  console.log(describeSelection(selection));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-localization-bench-"));
  try {
    const extractor = compiled("specs/tiny/tiny_early_fusion_gap.vnet");
    const protocol = extractor.graph.protocol!;
    const flows = flowStreams(extractor.graph);
    const features = featureModel(extractor.network, extractor.graph, extractor.model);
    const videosDir = path.join(scratch, "videos");
    const synth = await main(["data", "synth", "--variant", "untrimmed", "--train-videos", "0", "--val-videos", String(count), "-o", videosDir], {
      out: () => {},
    });
    if (synth !== 0) throw new Error("vnet data synth --variant untrimmed failed");
    const profiles: [string, readonly UntrimmedSource[]][] = [
      [`${BUILTIN_UNTRIMMED} in memory`, (await openUntrimmed(BUILTIN_UNTRIMMED, { trainVideos: 0, valVideos: count })).videos],
      ["the same videos as mp4 files (ffmpeg)", (await openUntrimmed(videosDir, { cacheDir: path.join(scratch, "probe") })).videos],
    ];
    const rows: { stage: string; unit: string; stats: Stats; note: string }[] = [];
    const out = path.join(scratch, "features");
    let snippetsPerVideo = 0;
    for (const [name, videos] of profiles) {
      const loader = new ViewLoader({ geometry: protocol, flows, workers: 0 });
      const context: ExtractionContext = {
        network: extractor.network,
        graph: extractor.graph,
        features,
        identity: { spec: extractor.network.file, network: extractor.network.name, specHash: "bench", weights: "fresh", weightsHash: "fresh" },
        classNames: extractor.network.classNames ?? Array.from({ length: features.classes }, (_, k) => `class ${k}`),
        protocol,
        flows,
        loader,
        batch: 32,
        onFailure: (_video, error) => {
          throw error;
        },
      };
      const samples: number[] = [];
      try {
        for (let run = 0; run <= runs; run++) {
          const started = performance.now();
          const manifest = await extractFeatures(videos, { scale: SCALE }, out, context);
          const snippets = Object.values(manifest.videos).reduce((n, v) => n + v.snippets, 0);
          snippetsPerVideo = snippets / videos.length;
          // The first run warms up (JIT, kernels); the others are measured.
          if (run > 0) samples.push(snippets / ((performance.now() - started) / 1000));
        }
      } finally {
        await loader.close();
      }
      rows.push({
        stage: `feature extraction, ${name}`,
        unit: "snippets/s",
        stats: summarize(samples),
        note: `${videos.length} videos, ${snippetsPerVideo.toFixed(0)} snippets each (8 frames every 4), batch 32`,
      });
      console.error(`  ${rows.at(-1)!.stage}: ${rows.at(-1)!.stats.median.toFixed(1)} snippets/s`);
    }

    const localizer = compiled("specs/tiny/tiny_bmn.vnet");
    const geometry = localizerGeometry(localizer.graph);
    const manifest = readManifest(out);
    const videos: FeatureVideo[] = Object.entries(manifest.videos).map(([id, entry]) => ({
      id,
      ...readFeatures(out, id, entry, manifest.extractor),
      duration: entry.duration,
      span: entry.span,
      segments: [],
    }));
    const latencies: number[] = [];
    for (let run = 0; run <= runs; run++) {
      for (const video of videos) {
        const started = performance.now();
        await localizeVideos(tfjsInference(localizer.model), [video], geometry, manifest.extractor.classNames);
        if (run > 0) latencies.push(performance.now() - started);
      }
    }
    rows.push({
      stage: "localization per video (tiny_bmn forward + BMN post-processing)",
      unit: "ms",
      stats: summarize(latencies),
      note: `[${geometry.positions}, ${geometry.features}] features, ${geometry.durations} durations, batch 1`,
    });
    console.error(`  ${rows.at(-1)!.stage}: ${rows.at(-1)!.stats.median.toFixed(1)} ms`);
    console.log(
      table(
        ["stage", "median", "p90", "unit", "runs", "setting"],
        rows.map((r) => [r.stage, r.stats.median.toFixed(1), r.stats.p90.toFixed(1), r.unit, String(r.stats.runs), r.note]),
      ),
    );
    console.log(
      `wrote ${writeResults("localization", { bench: "localization", date: new Date().toISOString(), machine: machine(), backend: selection.choice, runs, videos: count, rows })}`,
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
