/**
 * Loads a detection dataset folder in AVA's formats (src/data/ava.ts) into keyframe splits: each
 * annotated, non-excluded keyframe with its ground-truth boxes, its person proposals, and the
 * clip centred on it (the frames `keyframeFrames` picks by the detector's sampling protocol, as
 * PySlowFast's AVA loader picks them) decoded from `videos/<video_id>.mp4` at the detector's size
 * (normalised boxes stay valid under the resize), a training clip with scale jitter at its largest
 * scale (short side `scale[1]`), for `trainKeyframeView` to scale, crop and flip each step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SamplingProtocol } from "../semantics/protocol.js";
import { AVA_FILES, keyframeKey, parseAvaAnnotations, parseAvaExclusions, parseAvaProposals, parseLabelMap } from "./ava.js";
import { DataError } from "./issues.js";
import { keyframeFrames, resizedSize } from "./sampling.js";
import type { DetectionKeyframe, DetectionSplits } from "./motion-boxes.js";
import { decodeFrames } from "./video/decode.js";
import { probeVideo } from "./video/probe.js";

function read(dir: string, name: string, optional = false): string | undefined {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (optional) return undefined;
    throw new DataError("VN125", file, `a detection dataset folder needs ${name} (AVA format; \`vnet data synth --variant boxes\` writes an example)`);
  }
  return fs.readFileSync(file, "utf8");
}

/** Whether a folder holds a detection dataset (its label map and annotation CSVs). */
export function isAvaFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, AVA_FILES.labelMap)) && fs.existsSync(path.join(dir, AVA_FILES.truth("train")));
}

/** The keyframes of one split (training's at the protocol's training timing, validation's at its test timing). */
async function loadSplit(
  dir: string,
  split: "train" | "val",
  protocol: SamplingProtocol,
  labelMap: ReturnType<typeof parseLabelMap>,
  cacheDir?: string,
): Promise<DetectionKeyframe[]> {
  const truthFile = path.join(dir, AVA_FILES.truth(split));
  const truth = parseAvaAnnotations(read(dir, AVA_FILES.truth(split), split === "val") ?? "", truthFile, labelMap);
  const proposals = parseAvaProposals(read(dir, AVA_FILES.proposals(split), true) ?? "", path.join(dir, AVA_FILES.proposals(split)));
  const excluded = parseAvaExclusions(read(dir, AVA_FILES.excluded(split), true) ?? "", path.join(dir, AVA_FILES.excluded(split)));
  const keys = [...new Set([...truth.keys(), ...proposals.keys()])].filter((k) => !excluded.has(k)).sort();
  const keyframes: DetectionKeyframe[] = [];
  const { frames, height, width } = protocol;
  for (const key of keys) {
    const comma = key.lastIndexOf(",");
    const video = key.slice(0, comma);
    const timestamp = Number(key.slice(comma + 1));
    const file = path.join(dir, AVA_FILES.video(video));
    if (!fs.existsSync(file)) throw new DataError("VN125", file, `keyframe ${keyframeKey(video, timestamp)} of ${path.basename(truthFile)} has no video`);
    const meta = await probeVideo(file, cacheDir);
    const indices = keyframeFrames(protocol, meta, timestamp, split === "train" ? "train" : "test");
    // A training clip with scale jitter is kept at its largest scale; `trainKeyframeView` cuts it each step.
    const scale = split === "train" ? protocol.train.scale : undefined;
    const size = scale ? resizedSize(protocol, meta, scale[1]) : { width, height };
    const decoded = await decodeFrames(file, meta, indices, size.width, size.height);
    const clip = new Float32Array(frames * size.height * size.width * 3);
    indices.forEach((index, t) => {
      const bytes = decoded.get(index)!;
      for (let i = 0; i < bytes.length; i++) clip[t * bytes.length + i] = bytes[i]! / 255;
    });
    const boxes = { boxes: truth.get(key) ?? [], proposals: proposals.get(key) ?? [] };
    keyframes.push({ video, timestamp, clip, ...(scale ? { size } : {}), ...boxes });
  }
  return keyframes;
}

/** A detection folder's train and val keyframes, their clips sampled by the detector's protocol. */
export async function loadAvaFolder(dir: string, protocol: SamplingProtocol, cacheDir?: string): Promise<DetectionSplits> {
  const labelMap = parseLabelMap(read(dir, AVA_FILES.labelMap)!, path.join(dir, AVA_FILES.labelMap));
  return {
    name: dir,
    classNames: labelMap.map((e) => e.name),
    frames: protocol.frames,
    height: protocol.height,
    width: protocol.width,
    train: await loadSplit(dir, "train", protocol, labelMap, cacheDir),
    val: await loadSplit(dir, "val", protocol, labelMap, cacheDir),
  };
}
