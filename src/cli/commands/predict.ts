/**
 * `vnet predict`: classifies one video with the spec's test protocol (views, averaging) and prints
 * the top classes.
 *   vnet predict model.onnx video.mp4                    ONNX Runtime, protocol from the metadata
 *   vnet predict spec.vnet video.mp4 --weights <run-dir> (ONNX Runtime, or tfjs with --runtime tfjs;
 *                                                        optical-flow streams computed too)
 *   vnet predict model.onnx --input video.npy | --sample builtin:motion:3
 * A video file is decoded and sampled by the data pipeline (src/data: the same test views as
 * `vnet eval`); a .npy float32 (or uint8) tensor [T, H, W, C] in [0, 1] (or a batch of ready views
 * [N, T, H, W, C]) or a builtin validation clip goes through `testViews` of runtime/predict.ts.
 */
import { defaultCacheDir } from "../../data/dataset.js";
import { flowStreams, type FlowStream } from "../../data/flow.js";
import { DataError, formatIssue } from "../../data/issues.js";
import { builtinVariant, motionDataset } from "../../data/motion.js";
import { protocolFromSection, protocolOf, type SamplingProtocol, type Section } from "../../data/sampling.js";
import { testViews as videoTestViews, type TestViews } from "../../data/views.js";
import { programSources } from "../../backends/onnx/index.js";
import { lowerNetwork } from "../../ir/pipeline.js";
import { outputScores } from "../../ir/scores.js";
import { programHash } from "../../runtime/checkpoint.js";
import { checkTrainedWeights, loadTrainedModel } from "../../runtime/model-io.js";
import { readNpy } from "../../runtime/npy.js";
import { checkpointOnnx } from "../../runtime/onnx-eval.js";
import { loadOnnxModel, OnnxModelError, runOnnx, type HostTensor, type OnnxProvider } from "../../runtime/onnx.js";
import { averageViews, scoresFromOutput, testViews, topClasses, viewsAsInput, type ShortVideos, type ViewScores } from "../../runtime/predict.js";
import { tfjsOutput } from "../../runtime/evaluate.js";
import { unsupportedStream } from "../../runtime/streams.js";
import type { BackendChoice } from "../../runtime/backend.js";
import { testProtocol, type TestProtocol } from "../../semantics/protocol.js";
import { VnetError } from "../../diagnostics/error.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, NETWORK_FLAG, PROVIDER_FLAG } from "../flags.js";
import { startBackend } from "../run-util.js";
import { checkNetwork } from "../util.js";

/** A loaded model of either runtime: its protocol, classes, input shape, and a scorer of view batches. */
interface Predictor {
  readonly describe: string;
  readonly protocol: TestProtocol;
  readonly shortVideos: ShortVideos;
  readonly classNames?: readonly string[];
  /** The raw input's shape without batch. */
  readonly inputShape: readonly number[];
  /** The data pipeline's protocol (video files) and the flow streams to compute with the views. */
  readonly sampling: SamplingProtocol;
  readonly flows: readonly FlowStream[];
  /** Scores views [V, T, H, W, C], with each flow stream's fields [V, ...] when the model has some. */
  score(views: HostTensor, flows?: readonly HostTensor[]): Promise<ViewScores>;
  close(): Promise<void>;
}

/** A video for the predictor: a .npy file or a builtin dataset's validation clip (with its true class). */
function loadVideo(input: string | undefined, sample: string | undefined, predictor: Predictor): { video: HostTensor; describe: string } {
  if ((input === undefined) === (sample === undefined)) throw new UsageError("vnet predict needs one video: a file (vnet predict <model> video.mp4), --input <video.npy> or --sample builtin:motion[:index]");
  if (input !== undefined) {
    try {
      return { video: readNpy(input), describe: input };
    } catch (error) {
      throw new UsageError(`cannot read ${input}: ${(error as Error).message}`);
    }
  }
  const [, name, indexText] = /^(builtin:[a-z-]+)(?::(\d+))?$/.exec(sample!) ?? [];
  const variant = name ? builtinVariant(name) : undefined;
  if (!variant) throw new UsageError(`unknown --sample ${sample} (builtin:motion[:index] or builtin:motion-appearance[:index])`);
  const index = Number(indexText ?? 0);
  const shape = predictor.inputShape;
  const [frames, size, width, channels] = shape.length === 4 ? shape : [predictor.protocol.frames, ...shape];
  if (size !== width || channels !== 3) throw new UsageError(`${name} makes square RGB clips; the model reads [${shape.join(", ")}]`);
  const classes = 8;
  const data = motionDataset({ variant, classes, frames: Math.max(frames!, 2), size: size!, trainPerClass: 0, valPerClass: Math.floor(index / classes) + 1 });
  const clipSize = data.frames * size! * size! * 3;
  const video = { data: data.val.clips.slice(index * clipSize, (index + 1) * clipSize), shape: [data.frames, size!, size!, 3] };
  return { video, describe: `${name} validation clip ${index} (true class: ${data.classNames[data.val.labels[index]!]})` };
}

async function onnxPredictor(file: string, provider: OnnxProvider): Promise<Predictor> {
  const model = await loadOnnxModel(file, { provider });
  const external = model.inputs.filter((i) => i.kind === "stream");
  const raw = model.inputs.filter((i) => i.kind === "raw");
  if (external.length) throw new UsageError(`${file} also reads stream ${external.map((i) => `\`${i.name}\` (${i.pipeline?.map((p) => p.op).join(" -> ")})`).join(", ")}, computed outside the model; predict with the spec instead: vnet predict <spec> <video> --weights <run-dir>`);
  if (raw.length !== 1) throw new UsageError(`${file} reads ${raw.length} raw inputs; vnet predict feeds one video`);
  const sampling = (JSON.parse(model.metadata["vnet.protocol"]!) as { sampling?: Section & { short_videos?: ShortVideos } }).sampling;
  return {
    describe: `runtime: ONNX Runtime ${model.metadata["vnet.network"]} (${model.provider} provider)`,
    protocol: model.protocol,
    shortVideos: sampling?.short_videos ?? "loop",
    ...(model.classNames ? { classNames: model.classNames } : {}),
    inputShape: raw[0]!.shape,
    sampling: protocolFromSection(file, raw[0]!.shape, sampling),
    flows: [],
    score: (views) => runOnnx(model, { [raw[0]!.name]: viewsAsInput(views, raw[0]!.shape) }),
    close: () => model.session.release(),
  };
}

/**
 * A spec's trained weights in ONNX Runtime: the checkpoint exported in memory (as `vnet export`
 * writes it), the spec's protocol and the checkpoint's class names, optical-flow streams fed as
 * the data pipeline computes them. Undefined (with the reason) when the network does not export.
 */
async function specOnnxPredictor(spec: string, options: TfjsOptions & { readonly provider: OnnxProvider }, out: (s: string) => void): Promise<Predictor | number | string> {
  const weights = options.weights;
  if (!weights) throw new UsageError("vnet predict <spec> needs --weights <run-dir or checkpoint directory>");
  const checked = checkNetwork(spec, options.network, out, options.color);
  if (typeof checked === "number") return checked;
  const network = checked.network;
  const unsupported = unsupportedStream(network);
  if (unsupported) throw new UsageError(`${network.name}: ${unsupported}`);
  // The weights are found and checked against the spec (VN115, VN100, VN116) before any video is read.
  const trained = checkTrainedWeights(network, weights, { specHash: programHash(checked.result.program) });
  for (const note of trained.notes) out(note);
  const flows = flowStreams(network);
  let loaded;
  try {
    loaded = await checkpointOnnx(network, trained, { sources: programSources(checked.result), flows, provider: options.provider });
  } catch (error) {
    if (error instanceof VnetError) throw error;
    throw new UsageError(`cannot load weights from ${weights}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!("model" in loaded)) return loaded.diagnostics[0]!.message;
  const { model, plan } = loaded;
  const raw = plan.inputs.find((i) => i.kind === "raw")!;
  const classNames = (trained.classNames ? [...trained.classNames] : undefined) ?? network.classNames;
  const sampling = network.sections.sampling as { short_videos?: ShortVideos } | undefined;
  return {
    describe: `runtime: ONNX Runtime ${network.name} (${model.provider} provider, the weights exported to ONNX in memory)`,
    protocol: testProtocol(network),
    shortVideos: sampling?.short_videos ?? "loop",
    ...(classNames ? { classNames } : {}),
    inputShape: raw.shape,
    sampling: protocolOf(network),
    flows,
    score: (views, flowFields = []) => {
      const feeds: Record<string, HostTensor> = { [raw.name]: viewsAsInput(views, raw.shape) };
      for (const [name, index] of plan.flowIndex) feeds[name] = flowFields[index]!;
      return runOnnx(model, feeds);
    },
    close: () => model.session.release(),
  };
}

interface TfjsOptions {
  readonly weights: string | undefined;
  readonly network: string | undefined;
  readonly backend: BackendChoice | undefined;
  readonly color: boolean;
}

async function tfjsPredictor(spec: string, options: TfjsOptions, out: (s: string) => void): Promise<Predictor | number> {
  const weights = options.weights;
  if (!weights) throw new UsageError("vnet predict --runtime tfjs needs --weights <run-dir or checkpoint directory>");
  const checked = checkNetwork(spec, options.network, out, options.color);
  if (typeof checked === "number") return checked;
  const network = checked.network;
  const unsupported = unsupportedStream(network);
  if (unsupported) throw new UsageError(`${network.name}: ${unsupported}`);
  await startBackend(options.backend, out, false);
  const trained = await loadTrainedModel(network, weights, { specHash: programHash(checked.result.program) });
  for (const note of trained.notes) out(note);
  const model = trained.model;
  const kind = outputScores(lowerNetwork(network)).kind;
  const classNames = trained.classNames ?? network.classNames;
  const inputShape = network.inputs.find((i) => i.kind === "input")!.shape;
  const sampling = network.sections.sampling as { short_videos?: ShortVideos } | undefined;
  return {
    describe: `runtime: tfjs ${network.name}`,
    protocol: testProtocol(network),
    shortVideos: sampling?.short_videos ?? "loop",
    ...(classNames ? { classNames } : {}),
    inputShape,
    sampling: protocolOf(network),
    flows: flowStreams(network),
    score: async (views, flowFields = []) => scoresFromOutput(await tfjsOutput(model, network, viewsAsInput(views, inputShape), flowFields), kind),
    close: async () => {
      model.dispose();
    },
  };
}

/** Views per model call: a protocol of 25 clips x 10 crops at 224x224 would not fit in one batch. */
const VIEW_BATCH = 8;

async function scoreInBatches(predictor: Predictor, views: HostTensor, flows: readonly HostTensor[] = []): Promise<ViewScores> {
  const [count] = views.shape;
  const rows = (t: HostTensor, start: number, n: number): HostTensor => {
    const size = t.shape.slice(1).reduce((a, b) => a * b, 1);
    return { data: t.data.subarray(start * size, (start + n) * size), shape: [n, ...t.shape.slice(1)] };
  };
  const parts: ViewScores[] = [];
  for (let start = 0; start < count!; start += VIEW_BATCH) {
    const n = Math.min(VIEW_BATCH, count! - start);
    parts.push(await predictor.score(rows(views, start, n), flows.map((f) => rows(f, start, n))));
  }
  const join = (pick: (s: ViewScores) => HostTensor): HostTensor => {
    const tensors = parts.map(pick);
    const data = new Float32Array(tensors.reduce((sum, t) => sum + t.data.length, 0));
    tensors.reduce((offset, t) => (data.set(t.data, offset), offset + t.data.length), 0);
    return { data, shape: [count!, ...tensors[0]!.shape.slice(1)] };
  };
  return { logits: join((s) => s.logits), probabilities: join((s) => s.probabilities) };
}


export const command = defineCommand({
  name: "predict",
  usage: "predict <model.onnx | spec> (<video file> | --input <video.npy> | --sample builtin:motion[:i]) [--weights <run-dir>] [--top K]",
  description: "Prints the top classes of one video, its views sampled and averaged by the model's test protocol. An ONNX file runs in ONNX Runtime (protocol and class names from its metadata); a spec with --weights runs in ONNX Runtime too (its weights exported in memory), or in tfjs with --runtime tfjs.",
  positional: { names: "model and video: <model.onnx | spec> [<video file>]", min: 1, max: 2 },
  flags: {
    runtime: { type: "choice", choices: ["onnx", "tfjs"], doc: "for a spec: onnx (the weights exported to ONNX in memory, run in ONNX Runtime; the default where the network exports) or tfjs" },
    weights: { type: "string", value: "DIR", doc: "with a spec: a run directory or checkpoint directory" },
    input: { type: "string", value: "FILE", doc: "a .npy video: float32 (or uint8) [T, H, W, C] in [0, 1], or ready views [N, T, H, W, C]" },
    sample: { type: "string", value: "builtin:motion[:i]", doc: "a builtin validation clip (with its true class)" },
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
      const onnx = flags.runtime === "tfjs" ? undefined : await specOnnxPredictor(target, { ...options, provider: flags.provider }, out);
      if (typeof onnx === "number") return onnx;
      if (onnx !== undefined && typeof onnx !== "string") predictor = onnx;
      else {
        if (typeof onnx === "string") out(`runtime: tfjs (the network does not export to ONNX: ${onnx})`);
        const loaded = await tfjsPredictor(target, options, out);
        if (typeof loaded === "number") return loaded;
        predictor = loaded;
      }
    }
    try {
      out(predictor.describe);
      const file = positional[1];
      let viewScores: ViewScores;
      if (file !== undefined) {
        if (flags.input !== undefined || flags.sample !== undefined) throw new UsageError("give one video: a file, --input or --sample");
        let views: TestViews;
        try {
          views = await videoTestViews(file, predictor.sampling, { flows: predictor.flows, cacheDir: flags.cacheDir ?? defaultCacheDir() });
        } catch (error) {
          if (!(error instanceof DataError)) throw error;
          out(formatIssue(error.issue));
          return 1;
        }
        const { frames, fps, width, height } = views.video;
        const test = predictor.sampling.test;
        out(`input: ${file} (${frames} frames at ${fps.toFixed(2)} fps, ${width}x${height})`);
        out(`views: ${views.views} (${test.clips} clip(s) x ${test.crops} crop(s) of [${views.clipShape.join(", ")}]${predictor.flows.length ? ` with ${predictor.flows.length} optical-flow stream(s)` : ""}), ${test.average} averaging`);
        const clips = { data: views.clips, shape: [views.views, ...views.clipShape] };
        const flows = views.flows.map((data, i) => ({ data, shape: [views.views, ...views.flowShapes[i]!] }));
        viewScores = await scoreInBatches(predictor, clips, flows);
      } else {
        if (predictor.flows.length) throw new UsageError(`${predictor.describe.replace(/^runtime: /, "")} computes optical flow, which needs a video file: vnet predict <spec> <video> --weights <run-dir>`);
        const { video, describe } = loadVideo(flags.input, flags.sample, predictor);
        let views;
        try {
          views = await testViews(video, predictor.protocol, predictor.shortVideos);
        } catch (error) {
          throw new UsageError(`${describe}: ${(error as Error).message}`);
        }
        out(`input: ${describe} [${video.shape.join(", ")}]`);
        out(`views: ${views.notes.join("; ")}`);
        viewScores = await scoreInBatches(predictor, views.views);
      }
      const { scores, kind } = averageViews(viewScores, predictor.protocol.average);
    const broken = scores.filter((s) => !Number.isFinite(s)).length;
    if (broken) throw new VnetError("VN118", `the model's ${kind} for ${positional[1] ?? flags.input ?? flags.sample} hold ${broken} NaN or infinite value(s) of ${scores.length}; there is no ranking to print`, { path: target, hint: "the weights are unusable (check them with vnet eval) or the input is not what the model expects" });
      out(`top-${Math.min(top, scores.length)} (${kind}):`);
      const best = topClasses(scores, predictor.classNames, top);
      const width = Math.max(...best.map((b) => b.name.length));
      best.forEach((b, i) => out(`  ${i + 1}. ${b.name.padEnd(width)}  ${b.score.toFixed(4)}`));
      return 0;
    } finally {
      await predictor.close();
    }
  },
});
