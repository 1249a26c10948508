/**
 * Test-time prediction of one video with either runtime: a `Predictor` is a loaded model (an
 * exported ONNX file in ONNX Runtime, or a spec's tfjs model with its weights) with its sampling
 * protocol, class names and the flow streams it reads; `predictVideo` cuts the protocol's views
 * out of any frame source (a video file, a `.npy` tensor, a built-in clip: src/data/views.ts, the
 * same sampler `vnet eval` uses), scores them in batches and averages them as the protocol says.
 */
import * as tf from "@tensorflow/tfjs";
import { flowStream, flowStreams, type FlowStream } from "../data/flow.js";
import { testViews, type FrameSource, type LoadedViews, type TestViews } from "../data/views.js";
import type { IrGraph } from "../ir/graph.js";
import { outputScores } from "../ir/scores.js";
import type { SamplingProtocol } from "../semantics/protocol.js";
import { loadOnnxModel, OnnxModelError, runOnnx, type OnnxModel, type OnnxProvider } from "./onnx.js";
import { averageViews, scoresFromOutput, type ViewScores } from "./scores.js";
import { graphFeeds, namedFeeds } from "./streams.js";

/** A loaded model of either runtime: its protocol, classes, flow streams, and a scorer of view batches. */
export interface Predictor {
  /** `runtime: ONNX Runtime r3d_18 (cpu provider)`. */
  readonly describe: string;
  readonly name: string;
  readonly protocol: SamplingProtocol;
  readonly classNames?: readonly string[];
  /** The optical-flow streams to compute with the views (none when the model reads only the clip). */
  readonly flows: readonly FlowStream[];
  /** Scores loaded views (clips and each flow stream's fields). */
  score(views: LoadedViews): Promise<ViewScores>;
  close(): Promise<void>;
}

/** An exported model in ONNX Runtime, sampled and labelled as its metadata says. Throws OnnxModelError for an unusable file. */
export async function onnxPredictor(file: string, provider: OnnxProvider): Promise<Predictor> {
  return onnxModelPredictor(await loadOnnxModel(file, { provider }), file);
}

/**
 * A loaded ONNX model (a file's, or a spec's weights exported in memory) as a predictor, sampled as
 * its metadata says; `overrides` name it and label its classes otherwise. Throws OnnxModelError
 * (after releasing the session) for a model vnet predict cannot feed.
 */
export async function onnxModelPredictor(
  model: OnnxModel,
  file: string,
  overrides: { readonly describe?: string; readonly classNames?: readonly string[] } = {},
): Promise<Predictor> {
  const protocol = model.protocol;
  if (model.metadata["vnet.task"] === "detection") {
    await model.session.release();
    throw new OnnxModelError(
      `${file} is a detector: it scores person boxes at keyframes; give them with --boxes <csv> (AVA format), as vnet detect takes them`,
    );
  }
  if (!protocol) {
    await model.session.release();
    throw new OnnxModelError(`${file} reads ${model.inputs.filter((i) => i.kind === "raw").length} raw inputs; vnet predict feeds one video`);
  }
  let flows: FlowStream[];
  try {
    flows = model.inputs.filter((i) => i.kind === "stream").map((i) => flowStream(i.name, i.pipeline ?? [], protocol.frames));
  } catch (error) {
    await model.session.release();
    throw new OnnxModelError(`${file}: ${(error as Error).message}`);
  }
  const name = model.metadata["vnet.network"] ?? file;
  const classNames = overrides.classNames ?? model.classNames;
  return {
    describe: overrides.describe ?? `runtime: ONNX Runtime ${name} (${model.provider} provider)`,
    name,
    protocol,
    ...(classNames ? { classNames } : {}),
    flows,
    score: (views) => runOnnx(model, namedFeeds(model.inputs, views, flows)),
    close: () => model.session.release(),
  };
}

/** A spec's tfjs model (its lowered graph, built with its weights), labelled with `classNames`. */
export function tfjsPredictor(graph: IrGraph, model: tf.LayersModel, classNames: readonly string[] | undefined): Predictor {
  const kind = outputScores(graph).kind;
  const flows = flowStreams(graph);
  return {
    describe: `runtime: tfjs ${graph.name}`,
    name: graph.name,
    protocol: graph.protocol!,
    ...(classNames ? { classNames } : {}),
    flows,
    score: async (views) => {
      const output = tf.tidy(() => {
        const inputs = graphFeeds(graph, views, flows);
        return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
      });
      const data = (await output.data()) as Float32Array;
      const shape = output.shape;
      output.dispose();
      return scoresFromOutput({ data, shape }, kind);
    },
    close: async () => {
      model.dispose();
    },
  };
}

/** Views per model call: a protocol of 25 clips x 10 crops at 224x224 would not fit in one batch. */
const VIEW_BATCH = 8;

/** The scores of every view, `VIEW_BATCH` views per call. */
export async function scoreViews(predictor: Predictor, views: LoadedViews): Promise<ViewScores> {
  const perView = (data: Float32Array) => data.length / Math.max(1, views.views);
  const rows = (data: Float32Array, start: number, n: number) => data.subarray(start * perView(data), (start + n) * perView(data));
  const parts: ViewScores[] = [];
  for (let start = 0; start < views.views; start += VIEW_BATCH) {
    const n = Math.min(VIEW_BATCH, views.views - start);
    parts.push(await predictor.score({ views: n, clips: rows(views.clips, start, n), flows: views.flows.map((f) => rows(f, start, n)) }));
  }
  const join = (pick: (s: ViewScores) => { data: Float32Array; shape: readonly number[] }) => {
    const tensors = parts.map(pick);
    const data = new Float32Array(tensors.reduce((sum, t) => sum + t.data.length, 0));
    tensors.reduce((offset, t) => (data.set(t.data, offset), offset + t.data.length), 0);
    return { data, shape: [views.views, ...tensors[0]!.shape.slice(1)] };
  };
  return { logits: join((s) => s.logits), probabilities: join((s) => s.probabilities) };
}

export interface Prediction {
  /** The views the model saw (what `vnet eval` sees of the same video). */
  readonly views: LoadedViews;
  readonly scores: ViewScores;
  /** Class probabilities averaged over the views as the protocol says. */
  readonly averaged: Float32Array;
}

/**
 * Predicts one video: the protocol's test views of `source` (with the predictor's flow streams),
 * scored and averaged; or, given `ready` views, those as they are.
 */
export async function predictVideo(predictor: Predictor, input: { source: FrameSource; cacheDir?: string } | { ready: LoadedViews }): Promise<Prediction> {
  const views: LoadedViews | TestViews =
    "ready" in input
      ? input.ready
      : await testViews(input.source, predictor.protocol, { flows: predictor.flows, ...(input.cacheDir ? { cacheDir: input.cacheDir } : {}) });
  const scores = await scoreViews(predictor, views);
  return { views, scores, averaged: averageViews(scores, predictor.protocol.test.average) };
}
