/**
 * `vnet data synth --out <dir>`: writes the builtin motion dataset as real video files through
 * ffmpeg, so training and tests exercise the real decode path end to end. The folder gets both
 * dataset layouts vnet reads: class folders per split (`train/<class>/<class>_0003.mp4`) and
 * MMAction2-style lists (`train.txt`, `val.txt`: `relative/path.mp4 label-index`) with
 * `classes.txt`. In each round over the classes the videos are one, two, one and three clips
 * long in turn, so multi-clip test sampling has room. `--variant untrimmed` writes
 * builtin:motion-untrimmed instead (src/data/untrimmed.ts: long videos with one to three actions
 * between stretches of rest), `train_0000.mp4`, `val_0000.mp4`, ... with the ActivityNet-style
 * `annotations.json` beside them, the folder `vnet features --data` reads. An existing non-empty
 * folder is never written into.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BUILTIN_FPS } from "../../data/dataset.js";
import { writeActivityNet } from "../../data/annotations.js";
import { ANNOTATIONS } from "../../data/features.js";
import { motionClassNames, motionVideos, type MotionOptions } from "../../data/motion.js";
import { BUILTIN_UNTRIMMED, openUntrimmed } from "../../data/untrimmed-sources.js";
import { AVA_FILES, formatAvaAnnotations, formatAvaProposals, formatLabelMap } from "../../data/ava.js";
import { motionBoxesClassNames, motionBoxKeyframes } from "../../data/motion-boxes.js";
import { encodeVideo } from "../../data/video/encode.js";
import { makeDirectory, probeWritable, writeFileAtomic } from "../../runtime/files.js";
import { UsageError } from "../args.js";
import { defineCommand, type CommandGroup } from "../command.js";

/** Video i's length in clips: 1, 2, 1, 3, 1, 2, ... */
const LENGTHS = [1, 2, 1, 3];

const synthCommand = defineCommand({
  name: "synth",
  usage:
    "data synth --out <dir> [--variant motion|appearance|untrimmed|boxes] [--classes N] [--frames N] [--size N] [--train-per-class N] [--val-per-class N] [--train-videos N] [--val-videos N] [--seed N] [--fps X]",
  description:
    "Writes builtin:motion as mp4 videos: class folders per split and MMAction2-style lists (train.txt, val.txt, classes.txt); --variant untrimmed writes builtin:motion-untrimmed (long videos with one to three actions) with its ActivityNet-style annotations.json; --variant boxes writes builtin:motion-boxes keyframe clips (several objects, each its own motion) with AVA-format annotations, proposals and label map. An existing non-empty folder is never written into.",
  positional: { names: "", min: 0, max: 0 },
  flags: {
    out: { type: "string", alias: "-o", value: "DIR", doc: "a new or empty folder" },
    variant: {
      type: "choice",
      choices: ["motion", "appearance", "untrimmed", "boxes"],
      default: "motion",
      doc: "motion: the class is only in the motion; appearance: also in the colours; untrimmed: long videos for localization; boxes: several objects per clip, each its own motion (detection, AVA format)",
    },
    classes: { type: "int", min: 2, default: 5, doc: "number of classes" },
    frames: { type: "int", min: 1, max: 1024, default: 8, doc: "frames of one clip (videos are 1 to 3 clips long)" },
    size: { type: "int", min: 8, max: 1024, default: 32, doc: "frame width and height in pixels (even)" },
    trainPerClass: { type: "int", min: 0, max: 100000, default: 8, doc: "training videos per class" },
    valPerClass: { type: "int", min: 0, max: 100000, default: 4, doc: "validation videos per class" },
    trainVideos: { type: "int", min: 0, max: 100000, default: 32, doc: "--variant untrimmed: training videos" },
    valVideos: { type: "int", min: 0, max: 100000, default: 16, doc: "--variant untrimmed: validation videos" },
    seed: { type: "int", min: 0, max: 2 ** 32 - 1, default: 0, doc: "random seed" },
    fps: { type: "number", above: 0, max: 1000, default: BUILTIN_FPS, doc: "frame rate of the videos" },
  },
  async run({ flags }, { out }) {
    const dir = flags.out;
    if (!dir) throw new UsageError("vnet data synth needs --out <dir>");
    const { variant, fps } = flags;
    if (flags.size % 2) throw new UsageError(`--size must be even (H.264 / yuv420p video), got ${flags.size}`);
    if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0))
      throw new UsageError(`${dir} exists and is not an empty folder; vnet data synth never writes into existing data`);
    // Created (and proven writable) before the first video is rendered.
    makeDirectory(dir);
    probeWritable(dir);
    if (variant === "untrimmed") return synthUntrimmed(dir, flags, out);
    if (variant === "boxes") return synthBoxes(dir, flags, out);
    const options: MotionOptions = { variant, classes: flags.classes, frames: flags.frames, size: flags.size, seed: flags.seed };
    const perClass = { train: flags.trainPerClass, val: flags.valPerClass };
    let classNames: readonly string[];
    try {
      classNames = motionClassNames(variant, options.classes);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    let written = 0;
    for (const split of ["train", "val"] as const) {
      const lines: string[] = [];
      const counts = new Map<number, number>();
      for (const video of motionVideos(options, split, perClass[split], (i) => flags.frames * LENGTHS[Math.floor(i / classNames.length) % LENGTHS.length]!)) {
        const name = classNames[video.label]!;
        const k = counts.get(video.label) ?? 0;
        counts.set(video.label, k + 1);
        const relative = `${split}/${name}/${name}_${String(k).padStart(4, "0")}.mp4`;
        makeDirectory(path.join(dir, split, name));
        await encodeVideo(path.join(dir, relative), video.pixels, { width: flags.size, height: flags.size, fps });
        lines.push(`${relative} ${video.label}`);
        written++;
      }
      writeFileAtomic(path.join(dir, `${split}.txt`), `${lines.join("\n")}\n`);
    }
    writeFileAtomic(path.join(dir, "classes.txt"), `${classNames.join("\n")}\n`);
    out(
      `wrote ${written} videos (${classNames.length} classes: ${classNames.join(", ")}; ${flags.size}x${flags.size} at ${fps} fps, ${flags.frames} to ${flags.frames * Math.max(...LENGTHS)} frames) to ${dir}/`,
    );
    out(`  class folders train/<class>/, val/<class>/ and lists train.txt, val.txt, classes.txt`);
    return 0;
  },
});

/**
 * `--variant boxes`: builtin:motion-boxes as a detection folder in AVA's formats (src/data/ava.ts):
 * one video per keyframe clip (`videos/<id>.mp4`), its keyframe the clip's middle, ground truth,
 * proposals, excluded timestamps and the label map.
 */
async function synthBoxes(
  dir: string,
  flags: {
    readonly classes: number;
    readonly frames: number;
    readonly size: number;
    readonly trainPerClass: number;
    readonly valPerClass: number;
    readonly seed: number;
    readonly fps: number;
  },
  out: (s: string) => void,
): Promise<number> {
  let classNames: readonly string[];
  try {
    classNames = motionBoxesClassNames(flags.classes);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const options = { classes: flags.classes, frames: flags.frames, size: flags.size, seed: flags.seed };
  // The keyframe is the clip's middle frame, as a clip centred on it starts frames / 2 before.
  const timestamp = Number((Math.floor(flags.frames / 2) / flags.fps).toFixed(6));
  const labelMap = classNames.map((name, i) => ({ id: i + 1, name }));
  makeDirectory(path.join(dir, "videos"));
  let written = 0;
  for (const split of ["train", "val"] as const) {
    const keyframes = motionBoxKeyframes(options, split, (split === "train" ? flags.trainPerClass : flags.valPerClass) * classNames.length).map((k) => ({
      ...k,
      timestamp,
    }));
    for (const k of keyframes) {
      await encodeVideo(path.join(dir, AVA_FILES.video(k.video)), k.clip, { width: flags.size, height: flags.size, fps: flags.fps });
      written++;
    }
    writeFileAtomic(path.join(dir, AVA_FILES.truth(split)), formatAvaAnnotations(keyframes, labelMap));
    writeFileAtomic(path.join(dir, AVA_FILES.proposals(split)), formatAvaProposals(keyframes));
    writeFileAtomic(path.join(dir, AVA_FILES.excluded(split)), "");
  }
  writeFileAtomic(path.join(dir, AVA_FILES.labelMap), formatLabelMap(classNames));
  out(
    `wrote ${written} keyframe clips (${classNames.length} actions: ${classNames.join(", ")}; ${flags.size}x${flags.size}, ${flags.frames} frames at ${flags.fps} fps, keyframe at ${timestamp} s) to ${dir}/`,
  );
  out(`  videos/<id>.mp4, train.csv and val.csv (AVA annotations), train_proposals.csv and val_proposals.csv, *_excluded_timestamps.csv, label_map.pbtxt`);
  return 0;
}

/** `--variant untrimmed`: builtin:motion-untrimmed's videos as mp4 files, with annotations.json (times scaled to --fps). */
async function synthUntrimmed(
  dir: string,
  flags: {
    readonly classes: number;
    readonly size: number;
    readonly seed: number;
    readonly fps: number;
    readonly trainVideos: number;
    readonly valVideos: number;
  },
  out: (s: string) => void,
): Promise<number> {
  let set;
  try {
    set = await openUntrimmed(BUILTIN_UNTRIMMED, {
      classes: flags.classes,
      size: flags.size,
      seed: flags.seed,
      trainVideos: flags.trainVideos,
      valVideos: flags.valVideos,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const video of set.videos) {
    if (video.source.kind !== "memory") continue;
    await encodeVideo(path.join(dir, `${video.id}.mp4`), video.source.pixels, { width: flags.size, height: flags.size, fps: flags.fps });
  }
  // The builtin times are at its frame rate; the files play at --fps.
  const scale = BUILTIN_FPS / flags.fps;
  const annotations = (set.annotations ?? []).map((a) => ({
    ...a,
    duration: a.duration * scale,
    segments: a.segments.map((s) => ({ ...s, start: s.start * scale, end: s.end * scale })),
  }));
  writeActivityNet(path.join(dir, ANNOTATIONS), annotations);
  const actions = annotations.reduce((n, a) => n + a.segments.length, 0);
  out(
    `wrote ${set.videos.length} untrimmed videos (${flags.trainVideos} training, ${flags.valVideos} validation; ${actions} actions of ${set.classNames?.length ?? 0} classes: ${set.classNames?.join(", ")}; ${flags.size}x${flags.size} at ${flags.fps} fps) to ${dir}/`,
  );
  out(`  <split>_<n>.mp4 and ${ANNOTATIONS} (ActivityNet-style: database, duration_second, subset, annotations)`);
  return 0;
}

export const command: CommandGroup = {
  name: "data",
  description: "Datasets: `vnet data synth` writes the builtin motion dataset as real videos.",
  subcommands: [synthCommand],
};
