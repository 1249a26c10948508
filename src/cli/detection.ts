/**
 * `vnet train`, `vnet eval` and `vnet detect` (and `vnet predict`) of a detector (task =
 * "detection"): keyframe splits from builtin:motion-boxes or an AVA-format folder
 * (src/data/ava.ts), training on the ground-truth boxes, frame-mAP@0.5 of the proposals above the
 * score threshold against the ground truth; a trained detector loaded for either runtime (ONNX
 * Runtime by default where the network exports, as for classifiers) and run on one video's boxes.
 */
import * as fs from "node:fs";
import type { EngineChoice } from "../runtime/engines/index.js";
import * as path from "node:path";
import { parseAvaProposals } from "../data/ava.js";
import { isAvaFolder, loadAvaFolder } from "../data/ava-folder.js";
import { isMotionBoxes, motionBoxesDataset, type DetectionKeyframe, type DetectionSplits, type ProposalBox } from "../data/motion-boxes.js";
import { keyframeFrames } from "../data/sampling.js";
import { decodeFrames } from "../data/video/decode.js";
import { encodeVideo } from "../data/video/encode.js";
import { probeVideo } from "../data/video/probe.js";
import type { BackendChoice } from "../runtime/backend.js";
import {
  scoreBoxes,
  detectionReport,
  detectorGeometry,
  detectorProtocol,
  formatDetectionReport,
  onnxDetector,
  PROPOSAL_THRESHOLD,
  testBoxes,
  tfjsDetector,
  type Detector,
  type DetectorInput,
} from "../runtime/detection/detect.js";
import { loadOnnxModel, OnnxModelError, type OnnxProvider } from "../runtime/onnx.js";
import { encodePng, pngDataUri } from "../vis/raster.js";
import { rasterize } from "../vis/svg.js";
import { trainNetwork, trainingConfig } from "../runtime/train.js";
import { UsageError } from "./args.js";
import {
  checkRunnableNetwork,
  describeOptimisation,
  inMemoryOnnx,
  readWeightsFlag,
  refuseClassifierOnlyFlags,
  startBackend,
  startTrainingBackend,
  stoppedTraining,
  trainedModel,
  trainingReports,
  wroteRun,
  type TrainingIo,
  type TrainingRun,
  trainedClassNames,
} from "./run-util.js";
import type { SamplingProtocol } from "../semantics/protocol.js";
import type { CheckedSpec } from "./util.js";
import { shownPath } from "./util.js";

/** A detector's keyframes: builtin:motion-boxes at its clip size, or an AVA-format folder sampled by its protocol. */
export async function loadDetectionSplits(
  data: string,
  detector: {
    readonly name: string;
    readonly classes?: number | undefined;
    readonly inputs: readonly DetectorInput[];
    readonly protocol?: SamplingProtocol | undefined;
  },
  options: { seed: number; trainClips?: number; valClips?: number; cacheDir?: string },
): Promise<DetectionSplits> {
  const { frames, height, width } = detectorGeometry(detector);
  if (isMotionBoxes(data)) {
    if (height !== width) throw new UsageError(`builtin:motion-boxes has square clips; ${detector.name} reads ${height}x${width}`);
    return motionBoxesDataset({
      classes: detector.classes,
      frames,
      size: width,
      seed: options.seed,
      ...(options.trainClips ? { trainClips: options.trainClips } : {}),
      ...(options.valClips ? { valClips: options.valClips } : {}),
    });
  }
  if (!isAvaFolder(data))
    throw new UsageError(
      `--data ${data}: a detector reads builtin:motion-boxes or a folder in AVA's formats (label_map.pbtxt, train.csv, val.csv, *_proposals.csv, videos/); \`vnet data synth --variant boxes\` writes one`,
    );
  return loadAvaFolder(data, detectorProtocol(detector), options.cacheDir);
}

/** `vnet train` of a detector. */
export async function trainDetector(
  run: TrainingRun,
  flags: {
    readonly network: string | undefined;
    readonly resume: boolean;
    readonly init: string | undefined;
    readonly engine: EngineChoice | undefined;
    readonly provider: OnnxProvider | undefined;
    readonly trainClips: number | undefined;
    readonly valClips: number | undefined;
    readonly backend: BackendChoice | undefined;
  },
  io: TrainingIo,
): Promise<number> {
  const { spec, network, graph, data, runDir, seed, overrides } = run;
  const { out } = io;
  refuseClassifierOnlyFlags("detector", flags);
  const splits = await loadDetectionSplits(data, graph, {
    seed,
    ...(flags.trainClips ? { trainClips: flags.trainClips } : {}),
    ...(flags.valClips ? { valClips: flags.valClips } : {}),
  });
  if (splits.classNames.length !== network.classes)
    throw new UsageError(
      `${shownPath(data)} has ${splits.classNames.length} actions but ${network.name} has ${network.classes} classes: set \`classes = ${splits.classNames.length}\``,
    );
  const { selection, onEngine } = await startTrainingBackend(flags.backend, flags.engine, out, network);
  const config = trainingConfig(network, overrides);
  const boxes = splits.train.reduce((n, k) => n + k.boxes.length, 0);
  out(
    `training ${network.name} on ${shownPath(data)}: ${splits.train.length} training keyframes (${boxes} ground-truth boxes) and ${splits.val.length} validation keyframes, clips of [${splits.frames}, ${splits.height}, ${splits.width}, 3], ${splits.classNames.length} actions`,
  );
  out(describeOptimisation(config));
  const reports = trainingReports(io);
  const result = await trainNetwork(graph, splits, {
    config,
    runDir,
    seed,
    resume: flags.resume,
    engine: flags.engine,
    engineOptions: { provider: flags.provider, tfjsGpu: selection.choice === "node-gpu" },
    ...reports,
    onEngine: onEngine(reports.onEngine),
  });
  result.model.dispose();
  const stopped = stoppedTraining(result, io.interrupt, io.err, { spec, data, runDir, network: flags.network });
  if (stopped !== undefined) return stopped;
  const last = result.history[result.history.length - 1];
  const map = last?.valMetrics?.["frame-mAP"];
  if (map !== undefined) out(`validation frame-mAP@0.5 ${(100 * map).toFixed(1)}% after ${last!.epoch} epochs (proposals scoring >= ${PROPOSAL_THRESHOLD})`);
  out(wroteRun(runDir, false));
  return 0;
}

/** `vnet eval` of a detector: frame-mAP@0.5 and per-class AP on a split, in ONNX Runtime unless `--engine tfjs` (or the network does not export). */
export async function evalDetector(
  checked: CheckedSpec,
  weights: string,
  data: string,
  flags: {
    readonly split: string | undefined;
    readonly seed: number | undefined;
    readonly valClips: number | undefined;
    readonly batch: number | undefined;
    readonly network: string | undefined;
    readonly engine: "auto" | "ort" | "tfjs";
    readonly provider: OnnxProvider;
    readonly backend: BackendChoice | undefined;
  },
  out: (s: string) => void,
  color: boolean,
): Promise<number> {
  if (flags.split !== undefined && flags.split !== "val" && flags.split !== "train")
    throw new UsageError(`a detection dataset has train and val splits, not ${flags.split}`);
  const runtime = flags.engine === "ort" ? "onnx" : flags.engine === "tfjs" ? "tfjs" : undefined;
  const detector = await loadDetector(checked, { ...flags, weights, runtime, color }, out);
  if (typeof detector === "number") return detector;
  const boxesOf = testBoxes(PROPOSAL_THRESHOLD);
  try {
    const splits = await loadDetectionSplits(data, detector, { seed: flags.seed ?? 0, trainClips: 1, ...(flags.valClips ? { valClips: flags.valClips } : {}) });
    if (splits.classNames.length !== detector.classes)
      throw new UsageError(`${shownPath(data)} has ${splits.classNames.length} actions but ${detector.name} has ${detector.classes} classes`);
    const split = flags.split === "train" ? "train" : "val";
    const keyframes = splits[split];
    const scores = await scoreBoxes(detector, keyframes, boxesOf, flags.batch ?? 8);
    const report = detectionReport(keyframes, scores, boxesOf, detector.classes);
    const proposals = keyframes.reduce((n, k) => n + boxesOf(k).length, 0);
    out(`${detector.name} on ${shownPath(data)} (${split} split: ${keyframes.length} keyframes, ${proposals} proposals scoring >= ${PROPOSAL_THRESHOLD}):`);
    out(formatDetectionReport(report, splits.classNames, keyframes.length));
  } finally {
    await detector.close();
  }
  return 0;
}

/** What `loadDetector` needs of the command's flags. */
export interface DetectorOptions {
  readonly weights: string | undefined;
  readonly network: string | undefined;
  /** For a spec: ONNX Runtime (the default where the network exports) or tfjs. */
  readonly runtime: "onnx" | "tfjs" | undefined;
  readonly provider: OnnxProvider;
  readonly backend: BackendChoice | undefined;
  readonly color: boolean;
}

/**
 * A trained detector to run: an exported .onnx file in ONNX Runtime, or a spec (checked here, or
 * already) with `--weights`,
 * its weights exported to ONNX in memory (`inMemoryOnnx`, as `vnet eval` and `vnet predict` run
 * classifiers) unless `runtime` is tfjs or the network does not export, else its tfjs model.
 * Prints the runtime; exit code 1 after printing what is wrong.
 */
export async function loadDetector(target: string | CheckedSpec, options: DetectorOptions, out: (s: string) => void): Promise<Detector | number> {
  if (typeof target === "string" && target.endsWith(".onnx")) {
    if (options.runtime === "tfjs") throw new UsageError(`${target} is an ONNX model: it runs in ONNX Runtime (--runtime tfjs runs a spec with --weights)`);
    let detector: Detector;
    try {
      const model = await loadOnnxModel(target, { provider: options.provider });
      try {
        detector = onnxDetector(model);
      } catch (error) {
        await model.session.release();
        throw error;
      }
    } catch (error) {
      if (!(error instanceof OnnxModelError)) throw error;
      out(`vnet: ${error.message}`);
      return 1;
    }
    out(detector.describe);
    return detector;
  }
  if (!options.weights) throw new UsageError("a detector spec needs --weights <run-dir or checkpoint directory> (or give an exported model.onnx)");
  const checked = typeof target === "string" ? checkRunnableNetwork(target, options.network, out, options.color, ["detection"]) : target;
  if (typeof checked === "number") return checked;
  const { network, graph } = checked;
  const store = await readWeightsFlag(options.weights);
  const classNames = trainedClassNames(store, network);
  if (options.runtime !== "tfjs") {
    const loaded = await inMemoryOnnx(
      checked,
      store,
      { flows: [], provider: options.provider, required: options.runtime === "onnx", color: options.color },
      out,
    );
    if (typeof loaded === "number") return loaded;
    if (loaded) {
      const detector = onnxDetector(loaded.model, {
        describe: `runtime: ONNX Runtime ${graph.name} (${loaded.model.provider} provider, the weights exported to ONNX in memory)`,
        ...(classNames ? { classNames } : {}),
      });
      out(detector.describe);
      return detector;
    }
  }
  await startBackend(options.backend, out, false, network);
  const model = trainedModel(graph, checked.result, store, out, options.color);
  if (typeof model === "number") return model;
  const detector = tfjsDetector(graph, model, classNames);
  if (options.runtime === "tfjs") out(detector.describe);
  return detector;
}

/** The boxes file's rows as keyframes of one video: AVA's 8 columns, an empty action and a score (or 7-column annotation rows, score 1). */
function boxesOfVideo(file: string, video: string): Map<number, ProposalBox[]> {
  const text = fs.readFileSync(file, "utf8");
  // Annotation rows (action_id, person_id) carry no score: read them as proposals of score 1.
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const asProposals = rows.map((l) => {
    const f = l.split(",");
    return f.length >= 8 && f[6]!.trim() === "" ? l : [...f.slice(0, 6), "", "1"].join(",");
  });
  const byKey = parseAvaProposals(asProposals.join("\n"), file);
  const videos = new Set([...byKey.keys()].map((k) => k.slice(0, k.lastIndexOf(","))));
  const chosen = videos.has(video) ? video : videos.size === 1 ? [...videos][0]! : undefined;
  if (chosen === undefined)
    throw new UsageError(`${file} has no boxes of video ${video} (it has ${[...videos].slice(0, 5).join(", ")}${videos.size > 5 ? ", ..." : ""})`);
  return new Map([...byKey].filter(([k]) => k.startsWith(`${chosen},`)).map(([k, boxes]) => [Number(k.slice(k.lastIndexOf(",") + 1)), boxes]));
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** One frame with its boxes and labels drawn, as RGB [H, W, 3] in [0, 1]. */
function drawFrame(frame: Float32Array, width: number, height: number, boxes: readonly ProposalBox[], labels: readonly string[]): Float32Array {
  const scale = Math.max(1, Math.ceil(256 / Math.max(width, height)));
  const [w, h] = [width * scale, height * scale];
  const shapes = boxes.map((b, i) => {
    const [x, y] = [b.x1 * w, b.y1 * h];
    return `<rect x="${x}" y="${y}" width="${(b.x2 - b.x1) * w}" height="${(b.y2 - b.y1) * h}" fill="none" stroke="#ffdd00" stroke-width="2"/><text x="${x + 2}" y="${Math.max(y - 3, 10)}" font-family="sans-serif" font-size="11" fill="#ffdd00" stroke="black" stroke-width="0.4">${escape(labels[i]!)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><image href="${pngDataUri(encodePng({ width, height, data: frame }))}" width="${w}" height="${h}" image-rendering="pixelated"/>${shapes.join("")}</svg>`;
  const { pixels } = rasterize(svg, { pixelated: true });
  const out = new Float32Array(w * h * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) for (let c = 0; c < 3; c++) out[j + c] = pixels[i + c]! / 255;
  return out;
}

/**
 * `vnet detect` (and `vnet predict` of a detector): the boxes file's keyframes of one video, each
 * scored on the clip centred on it, printed with each box's top actions; with `overlay`, the
 * keyframes' clips with the boxes and their top actions drawn, as a video. Closes the detector.
 */
export async function detectVideo(
  detector: Detector,
  videoFile: string,
  boxesFile: string,
  options: { readonly top: number; readonly overlay?: string },
  out: (s: string) => void,
): Promise<number> {
  let keyframes: DetectionKeyframe[];
  let scores: Float32Array[];
  const { frames, height, width } = detectorGeometry(detector);
  const protocol = detectorProtocol(detector);
  let fps: number;
  try {
    const keyframeBoxes = boxesOfVideo(boxesFile, path.basename(videoFile).replace(/\.[^.]+$/, ""));
    const meta = await probeVideo(videoFile);
    fps = meta.fps;
    keyframes = [];
    for (const [timestamp, proposals] of [...keyframeBoxes].sort((a, b) => a[0] - b[0])) {
      const indices = keyframeFrames(protocol, meta, timestamp, "test");
      const decoded = await decodeFrames(videoFile, meta, indices, width, height);
      const clip = new Float32Array(frames * height * width * 3);
      indices.forEach((index, t) => decoded.get(index)!.forEach((v, i) => (clip[t * height * width * 3 + i] = v / 255)));
      keyframes.push({ video: path.basename(videoFile), timestamp, clip, boxes: [], proposals });
    }
    scores = await scoreBoxes(detector, keyframes, (k) => k.proposals);
  } finally {
    await detector.close();
  }
  const { classes } = detector;
  const classNames = detector.classNames ?? Array.from({ length: classes }, (_, i) => `class ${i}`);
  const overlayFrames: Float32Array[] = [];
  keyframes.forEach((k, i) => {
    out(`keyframe ${k.timestamp} s (${k.proposals.length} box${k.proposals.length === 1 ? "" : "es"}):`);
    const labels = k.proposals.map((b, j) => {
      const row = scores[i]!.subarray(j * classes, (j + 1) * classes);
      const ranked = [...row]
        .map((p, c) => ({ p, c }))
        .sort((a, b) => b.p - a.p)
        .slice(0, options.top);
      out(
        `  box ${j} [${[b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(3)).join(", ")}]  ${ranked.map((r) => `${classNames[r.c]} ${r.p.toFixed(3)}`).join("  ")}`,
      );
      return `${classNames[ranked[0]!.c]} ${ranked[0]!.p.toFixed(2)}`;
    });
    if (options.overlay)
      for (let t = 0; t < frames; t++)
        overlayFrames.push(drawFrame(k.clip.subarray(t * height * width * 3, (t + 1) * height * width * 3), width, height, k.proposals, labels));
  });
  if (options.overlay && overlayFrames.length) {
    const scale = Math.max(1, Math.ceil(256 / Math.max(width, height)));
    const all = new Float32Array(overlayFrames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of overlayFrames) {
      all.set(f, at);
      at += f.length;
    }
    await encodeVideo(options.overlay, all, { width: width * scale, height: height * scale, fps: Math.min(fps, 8) });
    out(`wrote ${options.overlay} (${keyframes.length} keyframe clip${keyframes.length === 1 ? "" : "s"}, boxes and top actions drawn)`);
  }
  return 0;
}
