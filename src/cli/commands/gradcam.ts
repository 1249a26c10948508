/**
 * `vnet gradcam <spec> --weights <run> <video> -o out.png|out.gif|out.mp4`: temporal Grad-CAM of
 * one video (src/vis/gradcam): the spec's test views (or `--view K`) through the data pipeline,
 * the class to explain (`--class`, `--true-label`, or the prediction), one map per stream at the
 * last spatio-temporal feature map (or `--layer`), drawn as a contact sheet (PNG: input, map and
 * overlay rows over the frames) or as the overlays played as a GIF or an MP4.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { probeVideo } from "../../data/video/probe.js";
import { VnetError } from "../../diagnostics/error.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { explainVideo, TargetError } from "../../vis/gradcam/explain.js";
import { camGif, contactSheetPng, explanationTitle, writeCamMp4 } from "../../vis/gradcam/render.js";
import { UsageError } from "../args.js";
import { checkOutputFile, specInputs } from "../outputs.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, LOADING_FLAGS, NETWORK_FLAG } from "../flags.js";
import { checkRunnableNetwork, loadingOptions, readWeightsFlag, startBackend, trainedModel, trainedClassNames } from "../run-util.js";

const FORMATS = [".png", ".gif", ".mp4"] as const;

/** A class given by name or index. */
function classIndex(flag: string, text: string, names: readonly string[] | undefined, classes: number): number {
  const byName = names?.indexOf(text) ?? -1;
  if (byName >= 0) return byName;
  if (/^\d+$/.test(text) && Number(text) < classes) return Number(text);
  const known = names ? names.slice(0, 12).join(", ") + (names.length > 12 ? ", ..." : "") : `0 to ${classes - 1}`;
  throw new UsageError(`${flag} ${text} names no class (${known})`);
}

export const command = defineCommand({
  name: "gradcam",
  usage: "gradcam <spec> --weights <run-dir> <video> -o out.png|out.gif|out.mp4 [--layer NAME[,NAME]] [--class C | --true-label L] [--view K] [options]",
  description:
    "Temporal Grad-CAM of one video, as PySlowFast computes it: gradients averaged over H x W per time step, ReLU of the weighted sum, trilinear upsampling, min-max normalisation, viridis, alpha blend; one map per stream (SlowFast pathways, two-stream towers).",
  positional: { names: "spec file and video file", min: 2, max: 2 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "a run directory or checkpoint directory" },
    out: { type: "string", alias: "-o", value: "FILE", doc: "the picture: .png contact sheet, .gif or .mp4 of the overlays" },
    layer: { type: "string", value: "NAME[,NAME]", doc: "the feature maps to explain, one per stream (default: each stream's last spatio-temporal map)" },
    class: { type: "string", value: "C", doc: "the class to explain, by name or index (default: the prediction)" },
    trueLabel: { type: "string", value: "L", doc: "the video's true class: explained, and the prediction marked right or wrong" },
    view: { type: "int", min: 0, doc: "only this test view (0-based, clips then crops; default: every view of the test protocol)" },
    alpha: { type: "number", min: 0, max: 1, default: 0.5, doc: "heat-map weight in the overlay" },
    fps: { type: "number", above: 0, default: 4, doc: "GIF and MP4: frames per second" },
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
    cacheDir: LOADING_FLAGS.cacheDir,
  },
  async run({ positional, flags }, { out, color }) {
    const [spec, video] = positional as [string, string];
    if (!flags.weights) throw new UsageError("vnet gradcam needs --weights <run-dir or checkpoint directory>");
    const file = flags.out;
    if (!file) throw new UsageError("vnet gradcam needs an output file: -o out.png, out.gif or out.mp4");
    const format = path.extname(file).toLowerCase() as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new UsageError(`vnet gradcam writes .png, .gif or .mp4, not \`${path.extname(file) || file}\``);
    if (flags.class !== undefined && flags.trueLabel !== undefined)
      throw new UsageError("give --class (a class to explain) or --true-label (the video's class), not both");
    if (path.resolve(file) === path.resolve(video))
      throw new VnetError("VN110", `the output ${file} is the video being explained; nothing was written`, { path: file, exitCode: 2 });
    const checked = checkRunnableNetwork(spec, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const { network, graph } = checked;
    const store = await readWeightsFlag(flags.weights);
    checkOutputFile("-o", file, [
      { path: video, what: "the video being explained" },
      ...specInputs(checked.result.program.modules.keys(), checked.file),
      { path: store.directory!, what: "the weights being explained" },
    ]);
    const classNames = trainedClassNames(store, network);
    const classes = network.classes ?? 0;
    const given = flags.class ?? flags.trueLabel;
    const chosen = given === undefined ? undefined : classIndex(flags.class !== undefined ? "--class" : "--true-label", given, classNames, classes);
    const cacheDir = loadingOptions({ workers: undefined, prefetch: undefined, cacheDir: flags.cacheDir }).cacheDir;
    const meta = await probeVideo(video, cacheDir);
    await startBackend(flags.backend, out, false, network);
    // The spec's model with the checkpoint's weights by name: another architecture's weights are located errors (VN082).
    const model = trainedModel(graph, checked.result, store, out, color);
    if (typeof model === "number") return model;
    let explanation;
    try {
      explanation = await explainVideo(
        graph,
        model,
        { kind: "file", path: video, meta, hash: meta.hash },
        {
          ...(flags.layer
            ? {
                layers: flags.layer
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(chosen !== undefined ? { classIndex: chosen } : {}),
          ...(flags.view !== undefined ? { view: flags.view } : {}),
          cacheDir,
        },
      );
    } catch (error) {
      if (error instanceof TargetError) throw new UsageError(error.message);
      throw error;
    } finally {
      model.dispose();
    }
    const options = {
      alpha: flags.alpha,
      title: path.basename(video),
      ...(classNames ? { classNames } : {}),
      ...(flags.trueLabel !== undefined ? { trueLabel: chosen! } : {}),
    };
    out(explanationTitle(explanation, options));
    explanation.targets.forEach((t, k) => {
      const time = t.layout === "NHWC" ? "one map (no time axis)" : `${t.steps} time step${t.steps === 1 ? "" : "s"}`;
      out(
        `  stream ${t.input}: layer ${t.node.name} [N, ${t.layout === "(NT)HWC" ? `${t.steps} frames, ` : ""}${t.node.shape.join(", ")}], ${time} over clip frames ${explanation.frames[k]!.covers.join(", ")}`,
      );
    });
    out(`views: ${explanation.views.length} of ${explanation.protocolViews}`);
    if (format === ".png") writeFileAtomic(file, contactSheetPng(explanation, options), { createDirectory: true });
    else if (format === ".gif") writeFileAtomic(file, camGif(explanation, flags.fps, options), { createDirectory: true });
    else {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      await writeCamMp4(file, explanation, flags.fps, options);
    }
    out(`wrote ${file}`);
    return 0;
  },
});
