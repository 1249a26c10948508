/**
 * What `vnet eval` and `vnet report` share to evaluate a classifier: the split, read with the
 * class names its checkpoint was trained with (so a label means what it meant in training), and
 * its videos scored with the spec's test protocol (clips x crops per video, averaged as the spec
 * says). Each command says in its own words when nothing is left to evaluate.
 */
import type * as tf from "@tensorflow/tfjs";
import type { SplitName, VideoItem, VideoSplits } from "../data/dataset.js";
import { flowStreams } from "../data/flow.js";
import { formatIssue, issueOf, type DataIssue } from "../data/issues.js";
import { ViewLoader, type LoaderOptions } from "../data/loader.js";
import type { IrGraph } from "../ir/graph.js";
import { checkpointClassNames } from "../runtime/checkpoint.js";
import type { ViewScorer } from "../runtime/engines/engine.js";
import { predictVideos, scoreReport, type EvaluationReport } from "../runtime/evaluate.js";
import { viewsPerVideo } from "../semantics/protocol.js";
import { loadDataset, reportIssues } from "./run-util.js";

/** The split to evaluate: the one asked for, else val, else test when there is no val split but a test one. */
export function evaluationSplit(asked: SplitName | undefined, splits: { readonly val: readonly unknown[]; readonly test: readonly unknown[] }): SplitName {
  return asked ?? (splits.val.length === 0 && splits.test.length > 0 ? "test" : "val");
}

export interface ClassifierSplitOptions {
  readonly seed: number;
  /** `--split`. */
  readonly split: SplitName | undefined;
  /** `--val-clips`: builtin data's validation clips per class. */
  readonly valClips: number | undefined;
  /** `--val-fraction`: folders and lists without a val split. */
  readonly valFraction: number | undefined;
  readonly cacheDir: string;
}

/**
 * The dataset a classifier's checkpoint (`weightsDir`) is evaluated on, labelled by the class
 * names the checkpoint records (else the spec's or the dataset's), its unusable videos printed,
 * and the split to evaluate with its videos (possibly none).
 */
export async function classifierSplit(
  data: string,
  graph: IrGraph,
  weightsDir: string,
  options: ClassifierSplitOptions,
  out: (s: string) => void,
): Promise<{ dataset: VideoSplits; split: SplitName; items: readonly VideoItem[] }> {
  const trainedOn = checkpointClassNames(weightsDir);
  const dataset = await loadDataset(data, graph, {
    seed: options.seed,
    trainPerClass: 1,
    cacheDir: options.cacheDir,
    ...(options.valClips ? { valPerClass: options.valClips } : {}),
    ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}),
    ...(trainedOn ? { classNames: trainedOn } : {}),
  });
  reportIssues(dataset.issues, out, false);
  const split = evaluationSplit(options.split, dataset);
  return { dataset, split, items: dataset[split] };
}

/** A classifier as evaluation runs it: a tfjs model, or a scorer of views (ONNX Runtime's). */
export type Classifier = tf.LayersModel | ViewScorer;

/** A split's videos scored by a classifier, and their evaluation (undefined when no video could be read). */
export interface ClassifierScores {
  readonly result: Awaited<ReturnType<typeof predictVideos>>;
  readonly report: EvaluationReport | undefined;
  /** The videos that could not be read (already printed). */
  readonly failures: readonly DataIssue[];
}

/**
 * Scores every video of a split with the spec's test protocol, `batch` views per model call (at
 * least one video's), 16 by default; prints each video that cannot be read and leaves it out.
 */
export async function scoreClassifier(
  model: Classifier,
  graph: IrGraph,
  items: readonly VideoItem[],
  options: { readonly loading: Omit<LoaderOptions, "geometry" | "flows">; readonly batch: number | undefined; readonly classNames: readonly string[] },
  out: (s: string) => void,
): Promise<ClassifierScores> {
  const protocol = graph.protocol!;
  const flows = flowStreams(graph);
  const loader = new ViewLoader({ geometry: protocol, flows, ...options.loading });
  const failures: DataIssue[] = [];
  const batch = Math.max(options.batch ?? 16, viewsPerVideo(protocol));
  let result;
  try {
    result = await predictVideos(model, graph, items, { loader, protocol, flows, batch, onFailure: (_item, error) => failures.push(issueOf(error)) });
  } finally {
    await loader.close();
  }
  for (const issue of failures) out(formatIssue(issue));
  const report = result.videos.length ? scoreReport(result.scores, result.labels, options.classNames, result.views, protocol.test.average) : undefined;
  return { result, report, failures };
}
