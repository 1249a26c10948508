/**
 * `vnet detect <spec | model.onnx> <video> --boxes <csv> [--weights <run-dir>]`: per-box action
 * scores of a trained detector (task = "detection") at each keyframe of the boxes file (AVA's
 * proposal or annotation CSV rows for this video), each scored on the clip centred on its
 * keyframe; `--overlay out.mp4` also writes the keyframes' clips with the boxes and their top
 * actions drawn. A spec's weights run in ONNX Runtime (exported in memory) where the network
 * exports, or in tfjs with `--runtime tfjs`; an exported .onnx file runs in ONNX Runtime. The work
 * is src/cli/detection.ts's `detectVideo`, which `vnet predict` of a detector shares.
 */
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { detectVideo, loadDetector } from "../detection.js";
import { BACKEND_FLAG, NETWORK_FLAG, PROVIDER_FLAG, RUNTIME_FLAG } from "../flags.js";

export const command = defineCommand({
  name: "detect",
  usage: "detect <spec | model.onnx> <video> --boxes <csv> [--weights <run-dir>] [--runtime onnx|tfjs] [--overlay out.mp4] [--top N]",
  description:
    "Per-box action scores of a trained detector at each keyframe of the boxes CSV (AVA format), and optionally an overlay video with the boxes and their top actions. A spec with --weights runs in ONNX Runtime (its weights exported in memory) where it exports, or in tfjs with --runtime tfjs; a .onnx file runs in ONNX Runtime.",
  positional: { names: "<spec | model.onnx> <video>", min: 2, max: 2 },
  flags: {
    weights: { type: "string", value: "DIR", doc: "with a spec: a run directory or checkpoint directory" },
    boxes: { type: "string", value: "CSV", doc: "person boxes: AVA proposal rows (video_id,timestamp,x1,y1,x2,y2,,score) or annotation rows, normalised" },
    overlay: { type: "string", value: "FILE.mp4", doc: "write the keyframes' clips with the boxes and top actions drawn" },
    top: { type: "int", min: 1, default: 3, doc: "actions printed per box" },
    runtime: RUNTIME_FLAG,
    provider: PROVIDER_FLAG,
    network: NETWORK_FLAG,
    backend: BACKEND_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    const [target, videoFile] = positional as [string, string];
    if (!flags.boxes) throw new UsageError("vnet detect needs --boxes <csv> (AVA-format person boxes)");
    const detector = await loadDetector(target, { ...flags, color }, out);
    if (typeof detector === "number") return detector;
    return detectVideo(detector, videoFile, flags.boxes, { top: flags.top, ...(flags.overlay ? { overlay: flags.overlay } : {}) }, out);
  },
});
