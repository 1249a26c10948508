/**
 * `vnet train <spec> --data <builtin:motion | folder | list file> -o <run-dir>`: trains a spec on
 * a dataset with the spec's optimizer and schedule (flags override), printing a progress bar on
 * stderr, and writing metrics.jsonl and an atomic checkpoint per epoch into the run directory.
 * Videos that cannot be used are reported with their path and skipped, with a summary at the end.
 * Before any data is loaded the run directory is checked (not an input, not an existing run
 * without --resume), locked against a second trainer, and, with --resume, its newest complete
 * checkpoint is recovered and checked against the spec and the flags (the run's own settings).
 * Ctrl-C (SIGINT) or SIGTERM stops after the current step and prints the --resume command.
 */
import * as path from "node:path";
import type { VideoSplits } from "../../data/dataset.js";
import { openFeatureSplits } from "../../data/features.js";
import { formatIssue, skippedSummary } from "../../data/issues.js";
import { programHash, readModelDirectory, recoverCheckpoint } from "../../runtime/checkpoint.js";
import { probeWritable } from "../../runtime/files.js";
import { checkArchitecture } from "../../runtime/model-io.js";
import { lockRun } from "../../runtime/run.js";
import type { BackendChoice } from "../../runtime/backend.js";
import type { EngineChoice } from "../../runtime/engines/index.js";
import type { OnnxProvider } from "../../runtime/onnx.js";
import { trainDetector } from "../detection.js";
import { checkFeatureFit, localizerGeometry } from "../../runtime/localization/train.js";
import { trainingConfig, trainNetwork, type TrainingConfig } from "../../runtime/train.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, DATA_VALUE, ENGINE_FLAG, LOADING_FLAGS, NETWORK_FLAG, PROVIDER_FLAG, SEED_FLAG } from "../flags.js";
import { checkRunDirectory, datasetInputs, specInputs } from "../outputs.js";
import {
  checkRunnableNetwork,
  describeOptimisation,
  loadDataset,
  loadingOptions,
  refuseClassifierOnlyFlags,
  reportIssues,
  startBackend,
  startTrainingBackend,
  stoppedTraining,
  trainingReports,
  wroteRun,
  type TrainingIo,
  type TrainingRun,
} from "../run-util.js";
import { recordedData, resumeSettings, type RunSettings } from "../run-settings.js";
import { shownPath } from "../util.js";

/** Interrupted while the data loaded or the backend started: nothing was trained or written. */
function stoppedBeforeTraining(interrupt: AbortSignal, err: (s: string) => void): number {
  err("vnet: interrupted before training started; nothing was written");
  return interrupt.reason === "SIGTERM" ? 143 : 130;
}

export const command = defineCommand({
  name: "train",
  interruptible: true,
  usage:
    "train <spec> --data <builtin:motion | folder | list> -o <run-dir> [--engine auto|ort|tfjs] [--epochs N] [--lr X] [--resume | --init <ckpt>] [options]",
  description:
    "Trains the spec on a dataset with its `training` section (flags override it); writes metrics.jsonl and a crash-safe checkpoint per epoch into the run directory. --resume continues a run from its last checkpoint.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    data: {
      type: "string",
      value: `${DATA_VALUE}|FEATURES`,
      doc: "the dataset: a builtin one, a folder of class folders, or a list file; for a localizer, a features folder (`vnet features`)",
    },
    out: { type: "string", alias: "-o", value: "RUN-DIR", doc: "the run directory (metrics.jsonl, checkpoint/)" },
    epochs: { type: "int", min: 1, doc: "epochs to train (default: the spec's)" },
    batch: { type: "int", min: 1, doc: "clips per step (default: the spec's)" },
    lr: { type: "number", above: 0, doc: "learning rate (default: the spec's)" },
    optimizer: { type: "choice", choices: ["sgd", "adam"], doc: "optimizer (default: the spec's)" },
    schedule: { type: "choice", choices: ["constant", "step", "cosine"], doc: "learning-rate schedule (default: the spec's)" },
    warmup: { type: "int", min: 0, doc: "linear warm-up epochs" },
    weightDecay: { type: "number", min: 0, doc: "L2 weight decay on kernels" },
    trainClips: { type: "int", min: 1, doc: "builtin data: training clips per class" },
    valClips: { type: "int", min: 1, doc: "builtin data: validation clips per class" },
    valFraction: { type: "number", min: 0, below: 1, doc: "folders and lists without a val split: the share held out for validation" },
    seed: SEED_FLAG,
    resume: { type: "switch", doc: "continue the run in -o from its last checkpoint" },
    init: { type: "string", value: "CKPT", doc: "starting weights of a new run (a run, checkpoint or tfjs model directory)" },
    annotations: {
      type: "string",
      value: "FILE",
      doc: "a localizer's annotations when the features folder has none (ActivityNet-style JSON or THUMOS-style lists)",
    },
    partial: { type: "switch", doc: "with --init: leave weights whose shapes differ at their initialisers (warned)" },
    plot: { type: "switch", doc: "redraw the training curves to <run-dir>/curves.png after every epoch" },
    network: NETWORK_FLAG,
    engine: ENGINE_FLAG,
    provider: PROVIDER_FLAG,
    backend: BACKEND_FLAG,
    ...LOADING_FLAGS,
  },
  async run({ positional, flags, given }, { out, err, progress, color, interrupt }) {
    const runDir = flags.out;
    if (!runDir) throw new UsageError("vnet train needs a run directory: -o <run-dir>");
    const data = flags.data;
    if (!data) throw new UsageError("vnet train needs --data (builtin:motion, builtin:motion-appearance, or a video folder or list file)");
    if (flags.init !== undefined && flags.resume)
      throw new UsageError("--init sets the starting weights of a new run; --resume continues one: use one of them");
    if (flags.partial && flags.init === undefined) throw new UsageError("--partial applies to --init weights: give --init <ckpt>");
    const overrides: Partial<Record<keyof TrainingConfig, unknown>> = {
      epochs: flags.epochs,
      batch: flags.batch,
      lr: flags.lr,
      weightDecay: flags.weightDecay,
      warmup: flags.warmup,
      optimizer: flags.optimizer,
      schedule: flags.schedule,
    };
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainingConfig>;

    const checked = checkRunnableNetwork(positional[0]!, flags.network, out, color, ["classification", "localization", "detection"]);
    if (typeof checked === "number") return checked;
    const { network, graph, result, file: spec } = checked;
    const inputs = [
      ...specInputs(result.program.modules.keys(), spec),
      ...datasetInputs(data),
      ...(flags.init !== undefined ? [{ path: flags.init, what: "the --init weights" }] : []),
    ];
    checkRunDirectory(runDir, inputs, flags.resume);
    const run: TrainingRun = { spec: positional[0]!, network, graph, data, runDir, seed: flags.seed ?? 0, overrides: defined };
    if (network.task === "detection") return trainDetector(run, flags, { out, err, progress, interrupt });
    if (network.task === "localization") return trainLocalizer(run, flags, { out, err, progress, interrupt });
    if (flags.annotations !== undefined) throw new UsageError("--annotations names a localizer's annotations; a classifier's labels come with its dataset");
    const lock = lockRun(runDir);
    try {
      probeWritable(runDir);
      const current: RunSettings = {
        seed: flags.seed ?? 0,
        data: recordedData(data),
        network: network.name,
        ...(flags.trainClips ? { trainClips: flags.trainClips } : {}),
        ...(flags.valClips ? { valClips: flags.valClips } : {}),
        ...(flags.valFraction !== undefined ? { valFraction: flags.valFraction } : {}),
        config: trainingConfig(network, defined),
      };
      let settings = current;
      if (flags.resume) {
        // Everything about the checkpoint is settled before any data is loaded.
        const found = recoverCheckpoint(runDir);
        checkArchitecture(
          graph,
          [...readModelDirectory(found.dir).weights].map(([name, t]) => ({ name, shape: t.shape })),
          found.dir,
          found.progress.network,
        );
        settings = resumeSettings(found.progress.settings ?? {}, current, given, flags, found.progress.epoch, runDir);
        if (found.progress.specHash && found.progress.specHash !== programHash(result.program))
          out(
            `note: ${path.basename(spec)} changed since ${found.dir} was written; its weights still fit (same layers and shapes), and the run keeps its own settings`,
          );
      }
      const { seed, config } = settings;
      const loading = loadingOptions(flags);
      const dataset: VideoSplits = await loadDataset(data, graph, {
        seed,
        cacheDir: loading.cacheDir,
        ...(settings.trainClips ? { trainPerClass: settings.trainClips } : {}),
        ...(settings.valClips ? { valPerClass: settings.valClips } : {}),
        ...(settings.valFraction !== undefined ? { valFraction: settings.valFraction } : {}),
      });
      reportIssues(dataset.issues, out, false);
      if (interrupt.aborted) return stoppedBeforeTraining(interrupt, err);
      if (dataset.train.length === 0) {
        out(formatIssue({ code: "VN097", path: data, message: "no usable training videos" }));
        return 1;
      }
      const { selection, onEngine } = await startTrainingBackend(flags.backend, flags.engine, out, network);
      if (interrupt.aborted) return stoppedBeforeTraining(interrupt, err);
      const initialise =
        flags.init === undefined ? undefined : await (await import("../init-weights.js")).initialWeights(flags.init, network, graph, flags.partial, out, color);
      if (typeof initialise === "number") return initialise;
      const { frames, height, width } = graph.protocol!;
      const views =
        frames === 1 ? `frames of [${height}, ${width}, 3] (a 2D network: one frame of each video)` : `clips of [${frames}, ${height}, ${width}, 3]`;
      out(
        `training ${network.name} on ${dataset.name}: ${dataset.train.length} training and ${dataset.val.length} validation videos, ${views}, ${dataset.classNames.length} classes`,
      );
      out(`${describeOptimisation(config)}, seed ${seed}`);
      const { config: _config, ...recorded } = settings;
      const reports = trainingReports({ out, err, progress, interrupt });
      const trained = await trainNetwork(graph, dataset, {
        config,
        runDir,
        seed,
        resume: flags.resume,
        engine: flags.engine,
        engineOptions: { provider: flags.provider, tfjsGpu: selection.choice === "node-gpu" },
        ...reports,
        onEngine: onEngine(reports.onEngine),
        ...(initialise ? { init: initialise } : {}),
        loading,
        specHash: programHash(result.program),
        settings: { ...recorded, config: settings.config },
        ...(flags.plot ? { onEpoch: () => redrawCurves(runDir) } : {}),
      });
      const summary = skippedSummary([...dataset.issues, ...trained.issues]);
      if (summary) out(summary);
      trained.model.dispose();
      const stopped = stoppedTraining(trained, interrupt, err, { spec: positional[0]!, data, runDir, network: flags.network });
      if (stopped !== undefined) return stopped;
      const last = trained.history[trained.history.length - 1];
      if (last && Number.isNaN(last.valAccuracy)) out(`trained ${last.epoch} epochs; no validation videos to measure accuracy on`);
      else if (last)
        out(`validation accuracy ${(100 * last.valAccuracy).toFixed(1)}% after ${last.epoch} epochs (chance ${(100 / dataset.classNames.length).toFixed(1)}%)`);
      out(wroteRun(runDir, flags.plot));
      return 0;
    } finally {
      lock.release();
    }
  },
});

/** `vnet train` of a localizer: on a features folder's splits, validating AR@10, AR@100 and the AUC each epoch. */
async function trainLocalizer(
  run: TrainingRun,
  flags: {
    readonly network: string | undefined;
    readonly annotations: string | undefined;
    readonly resume: boolean;
    readonly init: string | undefined;
    readonly plot: boolean;
    readonly engine: EngineChoice | undefined;
    readonly provider: OnnxProvider | undefined;
    readonly backend: BackendChoice | undefined;
  },
  io: TrainingIo,
): Promise<number> {
  const { spec, network, graph, data, runDir, seed, overrides } = run;
  const { out } = io;
  refuseClassifierOnlyFlags("localizer", flags);
  const splits = openFeatureSplits(data, flags.annotations ? { annotations: flags.annotations } : {});
  checkFeatureFit(graph, splits);
  reportIssues(splits.issues, out, false);
  const train = splits.train.filter((v) => v.segments.length > 0);
  if (train.length === 0) {
    out(formatIssue({ code: "VN097", path: data, message: "no training video with annotated actions has features here" }));
    return 1;
  }
  const selection = await startBackend(flags.backend, out, true, network);
  const config = trainingConfig(network, overrides);
  const { positions, features } = localizerGeometry(graph);
  const extractor = splits.manifest.extractor;
  out(
    `training ${network.name} on ${shownPath(data)}: ${train.length} training and ${splits.val.length} validation videos, sequences of [${positions}, ${features}] (${extractor.network}'s ${extractor.layer}), ${splits.classNames.length} action classes`,
  );
  out(describeOptimisation(config));
  const result = await trainNetwork(graph, splits, {
    config,
    runDir,
    seed,
    resume: flags.resume,
    engine: flags.engine,
    engineOptions: { provider: flags.provider, tfjsGpu: selection.choice === "node-gpu" },
    ...trainingReports(io),
    ...(flags.plot ? { onEpoch: () => redrawCurves(runDir) } : {}),
  });
  result.model.dispose();
  const summary = skippedSummary(splits.issues);
  if (summary) out(summary);
  const stopped = stoppedTraining(result, io.interrupt, io.err, { spec, data, runDir, network: flags.network });
  if (stopped !== undefined) return stopped;
  const last = result.history[result.history.length - 1];
  const figures = last?.valMetrics;
  if (figures && "AR@10" in figures)
    out(
      `validation AR@10 ${(100 * figures["AR@10"]!).toFixed(1)}%, AR@100 ${(100 * figures["AR@100"]!).toFixed(1)}%, AUC ${figures.AUC!.toFixed(2)} after ${last!.epoch} epochs`,
    );
  else if (last) out(`trained ${last.epoch} epochs; no annotated validation videos to measure recall on`);
  out(wroteRun(runDir, flags.plot));
  return 0;
}

/** `--plot`: the run's curves as <run-dir>/curves.png (loaded on demand: only --plot pays for Vega). */
async function redrawCurves(runDir: string): Promise<void> {
  const { drawCurves, readRunCurves } = await import("../../vis/plot.js");
  const { writeFileAtomic } = await import("../../runtime/files.js");
  writeFileAtomic(path.join(runDir, "curves.png"), await drawCurves([readRunCurves(runDir, path.basename(path.resolve(runDir)))], "png"));
}
