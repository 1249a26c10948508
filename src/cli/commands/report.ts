/**
 * `vnet report <run> --spec <spec> --data <data> -o report.html`: one self-contained page about a
 * run (src/vis/report.ts): the spec and its summary, the network drawing, the curves from
 * metrics.jsonl, the evaluation of the checkpoint on a split with the spec's test protocol, and
 * Grad-CAM of a few of its videos, right and wrong ones.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SplitName, VideoItem } from "../../data/dataset.js";
import { VnetError } from "../../diagnostics/error.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { checkpointDir } from "../../runtime/checkpoint.js";
import { summarize } from "../../semantics/summary.js";
import { explainVideo } from "../../vis/gradcam/explain.js";
import { contactSheetPng } from "../../vis/gradcam/render.js";
import { graphSvg } from "../../vis/graph/draw.js";
import { curvesSvg, readRunCurves } from "../../vis/plot.js";
import { reportHtml, type ReportCam } from "../../vis/report.js";
import { UsageError } from "../args.js";
import { checkOutputFile, datasetInputs, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, DATA_VALUE, LOADING_FLAGS, NETWORK_FLAG, SEED_FLAG } from "../flags.js";
import { classifierSplit, scoreClassifier } from "../evaluation.js";
import { checkRunnableNetwork, loadingOptions, readWeightsFlag, startBackend, trainedModel } from "../run-util.js";

const SPLITS = ["val", "test", "train"] as const satisfies readonly SplitName[];

/** Up to `count` videos to explain: right and wrong ones in turn, in split order. */
function pickVideos(labels: Int32Array, predicted: readonly number[], count: number): number[] {
  const right = predicted.map((p, i) => (p === labels[i] ? i : -1)).filter((i) => i >= 0);
  const wrong = predicted.map((p, i) => (p !== labels[i] ? i : -1)).filter((i) => i >= 0);
  const out: number[] = [];
  while (out.length < count && (right.length || wrong.length)) {
    if (right.length) out.push(right.shift()!);
    if (out.length < count && wrong.length) out.push(wrong.shift()!);
  }
  return out;
}

export const command = defineCommand({
  name: "report",
  usage: "report <run-dir> --spec <spec> --data <builtin:motion | folder | list> -o report.html [--videos N] [options]",
  description:
    "Writes one self-contained HTML page about a run: the spec and its summary, the network drawing, the training curves, the evaluation with the test protocol (top-1/5, per-class accuracy, confusion matrix) and Grad-CAM of a few validation videos, right and wrong.",
  positional: { names: "run directory", min: 1, max: 1 },
  flags: {
    spec: { type: "string", value: "SPEC", doc: "the spec the run trained" },
    data: { type: "string", value: DATA_VALUE, doc: "the dataset to evaluate on (builtin data: the seed and clip counts the run used)" },
    out: { type: "string", alias: "-o", value: "FILE", doc: "the page (.html)" },
    split: { type: "choice", choices: SPLITS, doc: "the split to evaluate (default: val, or test when there is no val split)" },
    videos: { type: "int", min: 0, max: 32, default: 4, doc: "videos to explain with Grad-CAM (right and wrong ones in turn)" },
    valClips: { type: "int", min: 1, doc: "builtin data: validation clips per class" },
    valFraction: { type: "number", min: 0, below: 1, doc: "folders and lists without a val split: the share held out for validation" },
    batch: { type: "int", min: 1, doc: "views per model call" },
    seed: SEED_FLAG,
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    ...LOADING_FLAGS,
  },
  async run({ positional, flags }, { out, color }) {
    const runDir = positional[0]!;
    if (!flags.spec) throw new UsageError("vnet report needs the run's spec: --spec <spec>");
    if (!flags.data) throw new UsageError("vnet report needs the data to evaluate on: --data (builtin:motion, a video folder or a list file)");
    const file = flags.out;
    if (!file) throw new UsageError("vnet report needs an output file: -o report.html");
    if (!/\.html?$/i.test(file)) throw new UsageError(`vnet report writes an .html page, not \`${path.extname(file) || file}\``);
    if (!fs.existsSync(path.join(runDir, "metrics.jsonl")))
      throw new VnetError("VN109", `${runDir} holds no metrics.jsonl: is it a run directory of vnet train?`, { path: runDir });
    const checked = checkRunnableNetwork(flags.spec, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const { network, graph } = checked;
    const seed = flags.seed ?? 0;
    const loading = loadingOptions(flags);
    const dir = checkpointDir(runDir);
    const store = await readWeightsFlag(dir);
    checkOutputFile("-o", file, [
      ...specInputs(checked.result.program.modules.keys(), checked.file),
      { path: dir, what: "the run's checkpoint" },
      { path: path.join(runDir, "metrics.jsonl"), what: "the run's metrics" },
      ...datasetInputs(flags.data),
    ]);
    const { dataset, split, items } = await classifierSplit(flags.data, graph, dir, { ...flags, seed, cacheDir: loading.cacheDir }, out);
    if (items.length === 0) throw new VnetError("VN097", `no usable videos in the ${split} split`, { path: flags.data });
    await startBackend(flags.backend, out, false, network);
    const model = trainedModel(graph, checked.result, store, out, color);
    if (typeof model === "number") return model;
    try {
      const { result, report: evaluation } = await scoreClassifier(model, graph, items, { loading, batch: flags.batch, classNames: dataset.classNames }, out);
      if (!evaluation) throw new VnetError("VN097", `no video of the ${split} split could be read`, { path: flags.data });
      const names = dataset.classNames;
      out(`evaluated ${result.videos.length} ${split} videos: top-1 ${(100 * evaluation.top1).toFixed(1)}%, top-5 ${(100 * evaluation.top5).toFixed(1)}%`);
      const classes = names.length;
      const predicted = result.videos.map((_, i) => {
        const row = result.scores.subarray(i * classes, (i + 1) * classes);
        return row.indexOf(Math.max(...row));
      });
      const cams: ReportCam[] = [];
      for (const index of pickVideos(result.labels, predicted, flags.videos)) {
        const item: VideoItem = result.videos[index]!;
        const explanation = await explainVideo(graph, model, item.source, { view: 0, cacheDir: loading.cacheDir });
        const options = { classNames: names, trueLabel: item.label, title: item.name };
        cams.push({
          video: item.name,
          trueClass: names[item.label]!,
          predictedClass: names[explanation.predicted]!,
          right: explanation.predicted === item.label,
          png: contactSheetPng(explanation, options),
          caption: `The first of its ${explanation.protocolViews} test view${explanation.protocolViews === 1 ? "" : "s"}; the map explains the predicted class.`,
        });
      }
      out(
        `explained ${cams.length} video${cams.length === 1 ? "" : "s"} with Grad-CAM (${cams.filter((c) => c.right).length} right, ${cams.filter((c) => !c.right).length} wrong)`,
      );
      const html = reportHtml({
        title: `${network.name}: training report`,
        run: runDir,
        data: `${dataset.name} (${split} split)`,
        specFile: checked.file,
        specText: fs.readFileSync(checked.file, "utf8"),
        summary: summarize(network),
        graphSvg: await graphSvg(network),
        curvesSvg: await curvesSvg([readRunCurves(runDir, path.basename(path.resolve(runDir)))]),
        evaluation,
        cams,
      });
      writeFileAtomic(file, html, { createDirectory: true });
      out(`wrote ${file} (${(html.length / 1024 / 1024).toFixed(1)} MiB)`);
      return 0;
    } finally {
      model.dispose();
    }
  },
});
