/**
 * `vnet eval <spec> --weights <run-dir | checkpoint dir> --data <builtin:motion | folder | list>`:
 * evaluates trained weights on a split (validation by default) with the spec's test protocol
 * (clips x crops per video, averaged as the spec says) and prints top-1, top-5, per-class
 * accuracy and a confusion matrix (`--confusion-png FILE` also draws it). Videos that cannot be
 * used are reported and skipped.
 */
import { writeConfusionPng } from "../runtime/confusion-png.js";
import { DataError, formatIssue, issueOf, skippedSummary, type DataIssue } from "../data/issues.js";
import { flowStreams } from "../data/flow.js";
import { ViewLoader } from "../data/loader.js";
import { protocolOf, viewsPerVideo } from "../data/sampling.js";
import type { SplitName, VideoSplits } from "../data/dataset.js";
import { checkpointClassNames, checkpointDir } from "../runtime/train.js";
import { formatReport, predictVideos, scoreReport } from "../runtime/evaluate.js";
import { loadModel } from "../runtime/model-io.js";
import { LOADING_FLAGS, loadDataset, loadingFlags, loadNetwork, numberFlag, parseFlags, reportIssues, startBackend, type RunCommandHooks } from "./train-command.js";

const VALUED = ["--weights", "--data", "--network", "--backend", "--seed", "--batch", "--val-clips", "--val-fraction", "--split", "--confusion-png", ...LOADING_FLAGS];
const SPLITS: readonly SplitName[] = ["train", "val", "test"];

/** Runs `vnet eval`; returns the exit code (0 evaluated, 1 spec or data errors, 2 usage). */
export async function evalCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values } = parseFlags(args, VALUED, [], "eval", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet eval takes one spec file: vnet eval <spec> --weights <run-dir> --data <builtin:motion | folder | list>");
  const weights = values.get("--weights");
  if (!weights) throw hooks.usage("vnet eval needs --weights <run-dir or checkpoint directory>");
  const data = values.get("--data");
  if (!data) throw hooks.usage("vnet eval needs --data (builtin:motion, builtin:motion-appearance, or a video folder or list file)");
  const split = values.get("--split");
  if (split !== undefined && !SPLITS.includes(split as SplitName)) throw hooks.usage(`unknown --split ${split} (${SPLITS.join(", ")})`);
  const network = loadNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const valPerClass = numberFlag(values, "--val-clips", hooks.usage, true);
  const valFraction = numberFlag(values, "--val-fraction", hooks.usage);
  const loading = loadingFlags(values, hooks.usage);
  const dir = checkpointDir(weights);
  const trainedOn = checkpointClassNames(dir);
  let dataset: VideoSplits;
  try {
    dataset = await loadDataset(data, network, { seed, trainPerClass: 1, cacheDir: loading.cacheDir, ...(valPerClass ? { valPerClass } : {}), ...(valFraction !== undefined ? { valFraction } : {}), ...(trainedOn ? { classNames: trainedOn } : {}) }, hooks.usage);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    out(formatIssue(error.issue));
    return 1;
  }
  reportIssues(dataset.issues, out, false);
  const chosen = (split as SplitName | undefined) ?? (dataset.val.length === 0 && dataset.test.length > 0 ? "test" : "val");
  const items = dataset[chosen];
  if (items.length === 0) {
    out(formatIssue({ code: "VN097", path: data, message: `no usable videos in the ${chosen} split` }));
    return 1;
  }
  await startBackend(values, out, hooks.usage, false, network);
  let model;
  try {
    model = await loadModel(dir);
  } catch (error) {
    throw hooks.usage(`cannot load weights from ${weights}: ${(error as Error).message.split("\n")[0]}`);
  }
  const protocol = protocolOf(network);
  const flows = flowStreams(network);
  const loader = new ViewLoader({ geometry: protocol, flows, ...loading });
  const failures: DataIssue[] = [];
  const batch = Math.max(numberFlag(values, "--batch", hooks.usage, true) || 16, viewsPerVideo(protocol));
  let result;
  try {
    result = await predictVideos(model, network, items, { loader, protocol, flows, batch, onFailure: (item, error) => failures.push(issueOf(error)) });
  } finally {
    await loader.close();
    model.dispose();
  }
  for (const issue of failures) out(formatIssue(issue));
  out(`${network.name} on ${dataset.name} (${chosen} split${dataset.name.startsWith("builtin:") ? `, seed ${seed}` : ""}):`);
  if (result.videos.length === 0) {
    out(formatIssue({ code: "VN097", path: data, message: `no video of the ${chosen} split could be read` }));
    return 1;
  }
  const report = scoreReport(result.scores, result.labels, dataset.classNames, result.views, protocol.test.average);
  out(formatReport(report));
  const picture = values.get("--confusion-png");
  if (picture) {
    writeConfusionPng(picture, report.confusion);
    out(`wrote the confusion matrix as a picture to ${picture} (rows: true class, darker = more of the row)`);
  }
  const summary = skippedSummary([...dataset.issues, ...failures]);
  if (summary) out(summary);
  return 0;
}
