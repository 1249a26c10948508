/**
 * `vnet predict`: classifies one video with the spec's test protocol (views, averaging) and prints
 * the top classes.
 *   vnet predict model.onnx video.mp4                    ONNX Runtime, protocol from the metadata
 *   vnet predict spec.vnet video.mp4 --weights <run-dir> (ONNX Runtime, or tfjs with --runtime tfjs;
 *                                                        optical-flow streams computed too)
 *   vnet predict model.onnx --input video.npy | --sample builtin:motion:3
 *   vnet predict <detector> video.mp4 --boxes boxes.csv   per-box action scores (vnet detect's)
 * Every video, whatever its source (a file decoded by ffmpeg, a .npy float32 or uint8 tensor
 * [T, H, W, C] in [0, 1], a builtin validation clip), is sampled by the data pipeline into the
 * same test views `vnet eval` takes (src/data/views.ts); a .npy batch of ready views
 * [N, T, H, W, C] is taken as it is. Prediction itself is runtime/predict.ts's.
 */
import { BUILTIN_FPS, builtinClipShape, defaultCacheDir } from "../../data/dataset.js";
import { builtinVariant, motionDataset } from "../../data/motion.js";
import { checkPixelRange, fileSource, tensorSource, type FrameSource, type LoadedViews } from "../../data/views.js";
import { flowStreams } from "../../data/flow.js";
import type { BackendChoice } from "../../runtime/backend.js";
import { readNpy } from "../../runtime/npy.js";
import { OnnxModelError, type OnnxProvider } from "../../runtime/onnx.js";
import { onnxModelPredictor, onnxPredictor, predictVideo, tfjsPredictor, type Predictor } from "../../runtime/predict.js";
import { AVERAGED, topClasses } from "../../runtime/scores.js";
import { cropCount, testTiming, type SamplingProtocol } from "../../semantics/protocol.js";
import { VnetError } from "../../diagnostics/error.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { detectVideo, loadDetector } from "../detection.js";
import { BACKEND_FLAG, NETWORK_FLAG, PROVIDER_FLAG, RUNTIME_FLAG } from "../flags.js";
import { inMemoryOnnx, readWeightsFlag, startBackend, trainedModel, trainedClassNames } from "../run-util.js";
import { checkNetwork, type CheckedSpec } from "../util.js";
import type { WeightStore } from "../../weights/store.js";
import { unsupportedInputs } from "../../runtime/streams.js";
import { errnoReason } from "../../runtime/files.js";

/** The video to predict: a frame source for the protocol's views, or ready views; and how to name it. */
type Video = { readonly source: FrameSource; readonly describe: string; readonly note?: string } | { readonly ready: LoadedViews; readonly describe: string };

/** A .npy video or a builtin validation clip (with its true class), as the predictor samples it. */
function tensorVideo(input: string | undefined, sample: string | undefined, protocol: SamplingProtocol): Video {
  if ((input === undefined) === (sample === undefined))
    throw new UsageError("vnet predict needs one video: a file (vnet predict <model> video.mp4), --input <video.npy> or --sample builtin:motion[:index]");
  // A tensor has no frame rate: a protocol that resamples to an fps takes its frames as recorded at that rate.
  const fps = testTiming(protocol).fps;
  const note = fps !== undefined ? `a tensor has no frame rate; its frames are taken as recorded at the protocol's ${fps} fps` : undefined;
  if (input !== undefined) {
    let video;
    try {
      video = readNpy(input);
    } catch (error) {
      throw new UsageError(`cannot read ${input}: ${(error as NodeJS.ErrnoException).code ? errnoReason(error) : (error as Error).message}`);
    }
    const describe = `${input} [${video.shape.join(", ")}]`;
    if (video.shape.length === 5) {
      const [n, t, h, w, c] = video.shape as [number, number, number, number, number];
      if (t !== protocol.frames || h !== protocol.height || w !== protocol.width || c !== protocol.channels)
        throw new UsageError(
          `${input}: a batch of views must be [N, ${protocol.frames}, ${protocol.height}, ${protocol.width}, ${protocol.channels}], got [${video.shape.join(", ")}]`,
        );
      return { ready: { views: n, clips: video.data, flows: [] }, describe };
    }
    if (video.shape.length !== 4 || video.shape[3] !== 3)
      throw new UsageError(`${input}: a video tensor is [T, H, W, 3] (or a batch of views [N, T, H, W, C]), got [${video.shape.join(", ")}]`);
    try {
      checkPixelRange(video.data);
      return { source: tensorSource(video.data, video.shape, fps ?? BUILTIN_FPS), describe, ...(note ? { note } : {}) };
    } catch (error) {
      throw new UsageError(`${input}: ${(error as Error).message}`);
    }
  }
  const [, name, indexText] = /^(builtin:[a-z-]+)(?::(\d+))?$/.exec(sample!) ?? [];
  const variant = name ? builtinVariant(name) : undefined;
  if (!variant) throw new UsageError(`unknown --sample ${sample} (builtin:motion[:index] or builtin:motion-appearance[:index])`);
  const index = Number(indexText ?? 0);
  const { frames, height, width } = builtinClipShape(protocol);
  if (height !== width || protocol.channels !== 3)
    throw new UsageError(`${name} makes square RGB clips; the model reads [${protocol.frames}, ${height}, ${width}, ${protocol.channels}]`);
  const classes = 8;
  const data = motionDataset({ variant, classes, frames: Math.max(frames, 2), size: height, trainPerClass: 0, valPerClass: Math.floor(index / classes) + 1 });
  const clipSize = data.frames * height * width * 3;
  const shape = [data.frames, height, width, 3];
  const source = tensorSource(data.val.clips.slice(index * clipSize, (index + 1) * clipSize), shape, BUILTIN_FPS);
  return { source, describe: `${name} validation clip ${index} (true class: ${data.classNames[data.val.labels[index]!]}) [${shape.join(", ")}]` };
}

/**
 * A spec's trained weights in ONNX Runtime: the spec's graph exported in memory with the stored
 * weights (as `vnet export` writes it), its protocol and the checkpoint's class names, optical-flow
 * streams fed as the data pipeline computes them. Undefined (after saying so) when the network
 * does not export; exit code 1 after printing the weights that do not fit the spec.
 */
async function specOnnxPredictor(
  spec: string,
  { checked, store }: SpecWeights,
  options: Pick<TfjsOptions, "color"> & { readonly provider: OnnxProvider },
  out: (s: string) => void,
): Promise<Predictor | number | undefined> {
  const { graph } = checked;
  const loaded = await inMemoryOnnx(checked, store, { flows: flowStreams(graph), provider: options.provider, required: false, color: options.color }, out);
  if (loaded === undefined || typeof loaded === "number") return loaded;
  const classNames = trainedClassNames(store, graph);
  return onnxModelPredictor(loaded.model, spec, {
    describe: `runtime: ONNX Runtime ${graph.name} (${loaded.model.provider} provider, the weights exported to ONNX in memory)`,
    ...(classNames ? { classNames } : {}),
  });
}

/** A detector scores boxes, not a whole video: it predicts with --boxes (the detector path of `run`). */
function refuseDetector(graph: { readonly name: string; readonly task: string }): void {
  if (graph.task === "detection")
    throw new UsageError(
      `${graph.name} is a detector: it scores person boxes at keyframes; give them with --boxes <csv> (AVA format), as vnet detect takes them`,
    );
}

interface TfjsOptions {
  readonly weights: string | undefined;
  readonly network: string | undefined;
  readonly backend: BackendChoice | undefined;
  readonly color: boolean;
}

/** A checked spec and the weights its predictor runs with. */
interface SpecWeights {
  readonly checked: CheckedSpec;
  readonly store: WeightStore;
}

/**
 * The spec's network, checked, not a detector, with no stream the runtime cannot compute, and the weights
 * `--weights` names (`command` says which form of vnet predict needs them); the exit code after
 * printing the spec's diagnostics.
 */
async function networkAndWeights(
  spec: string,
  options: Pick<TfjsOptions, "weights" | "network" | "color">,
  out: (s: string) => void,
  command: string,
): Promise<SpecWeights | number> {
  if (!options.weights) throw new UsageError(`${command} needs --weights <run-dir or checkpoint directory>`);
  const checked = checkNetwork(spec, options.network, out, options.color);
  if (typeof checked === "number") return checked;
  refuseDetector(checked.graph);
  const unsupported = unsupportedInputs(checked.graph);
  if (unsupported) throw new UsageError(`${checked.graph.name}: ${unsupported}`);
  return { checked, store: await readWeightsFlag(options.weights) };
}

async function specPredictor({ checked, store }: SpecWeights, options: TfjsOptions, out: (s: string) => void): Promise<Predictor | number> {
  const { graph } = checked;
  await startBackend(options.backend, out, false);
  const model = trainedModel(graph, checked.result, store, out, options.color);
  if (typeof model === "number") return model;
  return tfjsPredictor(graph, model, trainedClassNames(store, graph));
}

export const command = defineCommand({
  name: "predict",
  usage:
    "predict <model.onnx | spec> (<video file> | --input <video.npy> | --sample builtin:motion[:i]) [--weights <run-dir>] [--top K]; a detector: predict <model> <video> --boxes <csv>",
  description:
    "Prints the top classes of one video, its views sampled and averaged by the model's test protocol. An ONNX file runs in ONNX Runtime (protocol and class names from its metadata); a spec with --weights runs in ONNX Runtime too (its weights exported in memory), or in tfjs with --runtime tfjs.",
  positional: { names: "model and video: <model.onnx | spec> [<video file>]", min: 1, max: 2 },
  flags: {
    runtime: RUNTIME_FLAG,
    weights: { type: "string", value: "DIR", doc: "with a spec: a run directory or checkpoint directory" },
    input: { type: "string", value: "FILE", doc: "a .npy video: float32 (or uint8) [T, H, W, C] in [0, 1], or ready views [N, T, H, W, C]" },
    sample: { type: "string", value: "builtin:motion[:i]", doc: "a builtin validation clip (with its true class)" },
    boxes: { type: "string", value: "CSV", doc: "a detector: the person boxes to score (AVA proposal or annotation rows), as vnet detect takes them" },
    top: { type: "int", value: "K", min: 1, default: 5, doc: "how many classes to print" },
    provider: PROVIDER_FLAG,
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    cacheDir: { type: "string", value: "DIR", doc: "probe and optical-flow cache (default ~/.cache/vnet)" },
  },
  async run({ positional, flags }, { out, color }) {
    const target = positional[0]!;
    const runtime = target.endsWith(".onnx") ? "onnx" : "spec";
    const top = flags.top;
    if (flags.boxes !== undefined) {
      // A detector: per-box action scores at the boxes' keyframes, as vnet detect prints them.
      const file = positional[1];
      if (file === undefined || flags.input !== undefined || flags.sample !== undefined)
        throw new UsageError("a detector predicts on a video file: vnet predict <detector> <video> --boxes <csv>");
      const detector = await loadDetector(target, { ...flags, color }, out);
      if (typeof detector === "number") return detector;
      return detectVideo(detector, file, flags.boxes, { top }, out);
    }

    let predictor: Predictor;
    if (runtime === "onnx") {
      try {
        predictor = await onnxPredictor(target, flags.provider);
      } catch (error) {
        if (!(error instanceof OnnxModelError)) throw error;
        out(`vnet: ${error.message}`);
        return 1;
      }
    } else {
      const options = { weights: flags.weights, network: flags.network, backend: flags.backend, color };
      // A spec runs in ONNX Runtime where it exports (unless --runtime tfjs), else in tfjs.
      const found = await networkAndWeights(target, options, out, flags.runtime === "tfjs" ? "vnet predict --runtime tfjs" : "vnet predict <spec>");
      if (typeof found === "number") return found;
      const onnx = flags.runtime === "tfjs" ? undefined : await specOnnxPredictor(target, found, { color, provider: flags.provider }, out);
      if (typeof onnx === "number") return onnx;
      if (onnx !== undefined) predictor = onnx;
      else {
        const loaded = await specPredictor(found, options, out);
        if (typeof loaded === "number") return loaded;
        predictor = loaded;
      }
    }
    try {
      out(predictor.describe);
      const { protocol } = predictor;
      const file = positional[1];
      let video: Video;
      if (file !== undefined) {
        if (flags.input !== undefined || flags.sample !== undefined) throw new UsageError("give one video: a file, --input or --sample");
        // A video that cannot be read ends the command: its DataError reaches the CLI as an error.
        const source = await fileSource(file, flags.cacheDir ?? defaultCacheDir());
        const { frames, fps, width, height } = source.meta;
        video = { source, describe: `${file} (${frames} frame${frames === 1 ? "" : "s"} at ${fps.toFixed(2)} fps, ${width}x${height})` };
      } else video = tensorVideo(flags.input, flags.sample, protocol);
      if ("ready" in video && predictor.flows.length)
        throw new UsageError(`${predictor.name} reads optical flow, which ready views do not carry: give the video itself`);
      out(`input: ${video.describe}`);
      if ("note" in video && video.note) out(`note: ${video.note}`);
      const prediction = await predictVideo(
        predictor,
        "ready" in video ? { ready: video.ready } : { source: video.source, cacheDir: flags.cacheDir ?? defaultCacheDir() },
      );
      const flows = predictor.flows.length ? ` with ${predictor.flows.length} optical-flow stream${predictor.flows.length === 1 ? "" : "s"}` : "";
      const taken =
        "ready" in video
          ? "given"
          : `${protocol.test.clips} clip${protocol.test.clips === 1 ? "" : "s"} x ${cropCount(protocol.test.crops)} crop${protocol.test.crops === "center" ? "" : "s"} (${protocol.test.crops})`;
      out(
        `views: ${prediction.views.views} = ${taken} of [${protocol.frames}, ${protocol.height}, ${protocol.width}, ${protocol.channels}]${flows}, ${protocol.test.average} averaging`,
      );
      const scores = prediction.averaged;
      const broken = scores.filter((v) => !Number.isFinite(v)).length;
      if (broken)
        throw new VnetError(
          "VN118",
          `the model's scores for ${positional[1] ?? flags.input ?? flags.sample} hold ${broken} NaN or infinite value(s) of ${scores.length}; there is no ranking to print`,
          { path: target, hint: "the weights are unusable (check them with vnet eval) or the input is not what the model expects" },
        );
      out(`top-${Math.min(top, scores.length)} (${AVERAGED[protocol.test.average]}):`);
      const best = topClasses(scores, predictor.classNames, top);
      const width = Math.max(...best.map((b) => b.name.length));
      best.forEach((b, i) => out(`  ${i + 1}. ${b.name.padEnd(width)}  ${b.score.toFixed(4)}`));
      return 0;
    } finally {
      await predictor.close();
    }
  },
});
