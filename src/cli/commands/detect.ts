/**
 * `vnet detect <spec> <video> --weights <run-dir> --boxes <csv>`: per-box action scores of a
 * trained detector (task = "detection") at each keyframe of the boxes file (AVA's proposal or
 * annotation CSV rows for this video: its file name without extension as video_id, or every
 * row when the file names one video), each scored on the clip centred on its keyframe. With
 * `--overlay out.mp4`, also writes the keyframes' clips with the boxes and their top actions drawn
 * (SVG rasterised by resvg, encoded by ffmpeg).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { keyframeClipIndices, parseAvaProposals } from "../../data/ava.js";
import type { DetectionKeyframe, ProposalBox } from "../../data/motion-boxes.js";
import { decodeFrames } from "../../data/video/decode.js";
import { encodeVideo } from "../../data/video/encode.js";
import { probeVideo } from "../../data/video/probe.js";
import { checkpointClassNames } from "../../runtime/checkpoint.js";
import { detectBoxes, detectorGeometry } from "../../runtime/detection/detect.js";
import { encodePng, pngDataUri } from "../../vis/raster.js";
import { rasterize } from "../../vis/svg.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { NETWORK_FLAG } from "../flags.js";
import { checkRunnableNetwork, readWeightsFlag, trainedModel } from "../run-util.js";

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

export const command = defineCommand({
  name: "detect",
  usage: "detect <spec> <video> --weights <run-dir> --boxes <csv> [--overlay out.mp4] [--top N]",
  description:
    "Per-box action scores of a trained detector at each keyframe of the boxes CSV (AVA format), and optionally an overlay video with the boxes and their top actions.",
  positional: { names: "<spec> <video>", min: 2, max: 2 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "a run directory or checkpoint directory" },
    boxes: { type: "string", value: "CSV", doc: "person boxes: AVA proposal rows (video_id,timestamp,x1,y1,x2,y2,,score) or annotation rows, normalised" },
    overlay: { type: "string", value: "FILE.mp4", doc: "write the keyframes' clips with the boxes and top actions drawn" },
    top: { type: "int", min: 1, default: 3, doc: "actions printed per box" },
    network: NETWORK_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    const [spec, videoFile] = positional as [string, string];
    if (!flags.weights) throw new UsageError("vnet detect needs --weights <run-dir or checkpoint directory>");
    if (!flags.boxes) throw new UsageError("vnet detect needs --boxes <csv> (AVA-format person boxes)");
    const checked = checkRunnableNetwork(spec, flags.network, out, color, ["detection"]);
    if (typeof checked === "number") return checked;
    const { network, graph } = checked;
    const { frames, height, width } = detectorGeometry(graph);
    const keyframeBoxes = boxesOfVideo(flags.boxes, path.basename(videoFile).replace(/\.[^.]+$/, ""));
    const meta = await probeVideo(videoFile);
    const store = await readWeightsFlag(flags.weights);
    const classNames =
      (store.directory ? checkpointClassNames(store.directory) : undefined) ??
      network.classNames ??
      Array.from({ length: network.classes! }, (_, i) => `class ${i}`);
    const keyframes: DetectionKeyframe[] = [];
    for (const [timestamp, proposals] of [...keyframeBoxes].sort((a, b) => a[0] - b[0])) {
      const indices = keyframeClipIndices(timestamp, meta.fps, meta.frames, frames);
      const decoded = await decodeFrames(videoFile, meta, indices, width, height);
      const clip = new Float32Array(frames * height * width * 3);
      indices.forEach((index, t) => decoded.get(index)!.forEach((v, i) => (clip[t * height * width * 3 + i] = v / 255)));
      keyframes.push({ video: path.basename(videoFile), timestamp, clip, boxes: [], proposals });
    }
    const model = trainedModel(graph, checked.result, store, out, color);
    if (typeof model === "number") return model;
    const scores = detectBoxes(model, graph, keyframes, (k) => k.proposals);
    model.dispose();
    const classes = network.classes!;
    const overlayFrames: Float32Array[] = [];
    keyframes.forEach((k, i) => {
      out(`keyframe ${k.timestamp} s (${k.proposals.length} box${k.proposals.length === 1 ? "" : "es"}):`);
      const labels = k.proposals.map((b, j) => {
        const row = scores[i]!.subarray(j * classes, (j + 1) * classes);
        const ranked = [...row]
          .map((p, c) => ({ p, c }))
          .sort((a, b) => b.p - a.p)
          .slice(0, flags.top);
        out(
          `  box ${j} [${[b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(3)).join(", ")}]  ${ranked.map((r) => `${classNames[r.c]} ${r.p.toFixed(3)}`).join("  ")}`,
        );
        return `${classNames[ranked[0]!.c]} ${ranked[0]!.p.toFixed(2)}`;
      });
      if (flags.overlay)
        for (let t = 0; t < frames; t++)
          overlayFrames.push(drawFrame(k.clip.subarray(t * height * width * 3, (t + 1) * height * width * 3), width, height, k.proposals, labels));
    });
    if (flags.overlay && overlayFrames.length) {
      const scale = Math.max(1, Math.ceil(256 / Math.max(width, height)));
      const all = new Float32Array(overlayFrames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of overlayFrames) {
        all.set(f, at);
        at += f.length;
      }
      await encodeVideo(flags.overlay, all, { width: width * scale, height: height * scale, fps: Math.min(meta.fps, 8) });
      out(`wrote ${flags.overlay} (${keyframes.length} keyframe clip${keyframes.length === 1 ? "" : "s"}, boxes and top actions drawn)`);
    }
    return 0;
  },
});
