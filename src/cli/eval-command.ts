/**
 * `vnet eval <spec> --weights <run-dir | checkpoint dir> --data builtin:motion`: evaluates trained
 * weights on the dataset's validation split with the spec's test protocol and prints top-1, top-5,
 * per-class accuracy and a confusion matrix (`--confusion-png FILE` also draws it).
 */
import { writeConfusionPng } from "../runtime/confusion-png.js";
import { checkpointDir } from "../runtime/train.js";
import { formatReport, predictScores, scoreReport } from "../runtime/evaluate.js";
import { loadModel } from "../runtime/model-io.js";
import { cropCount, testProtocol } from "../semantics/protocol.js";
import { loadDataset, loadNetwork, numberFlag, parseFlags, startBackend, type RunCommandHooks } from "./train-command.js";

const VALUED = ["--weights", "--data", "--network", "--backend", "--seed", "--batch", "--val-clips", "--confusion-png"];

/** Runs `vnet eval`; returns the exit code (0 evaluated, 1 spec errors, 2 usage). */
export async function evalCommand(args: readonly string[], out: (s: string) => void, hooks: RunCommandHooks): Promise<number> {
  const { positional, values } = parseFlags(args, VALUED, [], "eval", hooks.usage);
  if (positional.length !== 1) throw hooks.usage("vnet eval takes one spec file: vnet eval <spec> --weights <run-dir> --data builtin:motion");
  const weights = values.get("--weights");
  if (!weights) throw hooks.usage("vnet eval needs --weights <run-dir or checkpoint directory>");
  const data = values.get("--data");
  if (!data) throw hooks.usage("vnet eval needs --data (builtin:motion or builtin:motion-appearance)");
  const network = loadNetwork(positional[0]!, values.get("--network"), out, hooks);
  if (typeof network === "number") return network;
  const seed = numberFlag(values, "--seed", hooks.usage, true) ?? 0;
  const valPerClass = numberFlag(values, "--val-clips", hooks.usage, true);
  const dataset = loadDataset(data, network, { seed, trainPerClass: 1, ...(valPerClass ? { valPerClass } : {}) }, hooks.usage);
  await startBackend(values, out, hooks.usage, false, network);
  const { clips, crops, average } = testProtocol(network);
  const requested = clips * cropCount(crops);
  if (requested > 1) out(`note: the spec's test protocol asks for ${requested} views per video; ${dataset.name}'s videos are exactly one input clip at the input size, so each has one view`);
  let model;
  try {
    model = await loadModel(checkpointDir(weights));
  } catch (error) {
    throw hooks.usage(`cannot load weights from ${weights}: ${(error as Error).message.split("\n")[0]}`);
  }
  const batch = numberFlag(values, "--batch", hooks.usage, true) || 16;
  const scores = await predictScores(model, network, dataset, dataset.val, batch);
  model.dispose();
  out(`${network.name} on ${dataset.name} (validation split, seed ${seed}):`);
  const report = scoreReport(scores, dataset.val.labels, dataset.classNames, 1, average);
  out(formatReport(report));
  const picture = values.get("--confusion-png");
  if (picture) {
    writeConfusionPng(picture, report.confusion);
    out(`wrote the confusion matrix as a picture to ${picture} (rows: true class, darker = more of the row)`);
  }
  return 0;
}
