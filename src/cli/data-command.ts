/**
 * `vnet data synth --out <dir>`: writes the builtin motion dataset as real video files through
 * ffmpeg, so training and tests exercise the real decode path end to end. The folder gets both
 * dataset layouts vnet reads: class folders per split (`train/<class>/<class>_0003.mp4`) and
 * MMAction2-style lists (`train.txt`, `val.txt`: `relative/path.mp4 label-index`) with
 * `classes.txt`. In each round over the classes the videos are one, two, one and three clips
 * long in turn, so multi-clip test sampling has room. An existing non-empty folder is never
 * written into.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BUILTIN_FPS } from "../data/dataset.js";
import { DataError, formatIssue } from "../data/issues.js";
import { motionClassNames, motionVideos, type MotionOptions } from "../data/motion.js";
import { encodeVideo } from "../data/video/encode.js";
import { writeFileAtomic } from "../data/video/probe.js";
import { numberFlag, parseFlags } from "./train-command.js";

const VALUED = ["-o", "--out", "--variant", "--classes", "--frames", "--size", "--train-per-class", "--val-per-class", "--seed", "--fps"];

/** Video i's length in clips: 1, 2, 1, 3, 1, 2, ... */
const LENGTHS = [1, 2, 1, 3];

/** Runs `vnet data <subcommand>`; returns the exit code (0 written, 1 ffmpeg failed, 2 usage). */
export async function dataCommand(args: readonly string[], out: (s: string) => void, usage: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "synth") throw usage(sub === undefined ? "vnet data needs a subcommand: vnet data synth --out <dir>" : `unknown vnet data subcommand \`${sub}\` (synth)`);
  const { positional, values } = parseFlags(rest, VALUED, [], "data synth", usage);
  if (positional.length) throw usage(`vnet data synth takes no positional arguments (got ${positional.join(" ")})`);
  const dir = values.get("--out");
  if (!dir) throw usage("vnet data synth needs --out <dir>");
  const variant = values.get("--variant") ?? "motion";
  if (variant !== "motion" && variant !== "appearance") throw usage(`unknown --variant ${variant} (motion, appearance)`);
  const int = (flag: string, fallback: number) => numberFlag(values, flag, usage, true) ?? fallback;
  const options: MotionOptions = { variant, classes: int("--classes", 5), frames: int("--frames", 8), size: int("--size", 32), seed: int("--seed", 0) };
  const fps = numberFlag(values, "--fps", usage) ?? BUILTIN_FPS;
  if (options.size! % 2) throw usage(`--size must be even (H.264 / yuv420p video), got ${options.size}`);
  if (options.frames! < 1 || !(fps > 0)) throw usage("--frames and --fps must be positive");
  if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0)) throw usage(`${dir} exists and is not an empty folder; vnet data synth never writes into existing data`);
  const perClass = { train: int("--train-per-class", 8), val: int("--val-per-class", 4) };
  let classNames: readonly string[];
  try {
    classNames = motionClassNames(variant, options.classes);
  } catch (error) {
    throw usage((error as Error).message);
  }
  let written = 0;
  try {
    for (const split of ["train", "val"] as const) {
      const lines: string[] = [];
      const counts = new Map<number, number>();
      for (const video of motionVideos(options, split, perClass[split], (i) => options.frames! * LENGTHS[Math.floor(i / classNames.length) % LENGTHS.length]!)) {
        const name = classNames[video.label]!;
        const k = counts.get(video.label) ?? 0;
        counts.set(video.label, k + 1);
        const relative = `${split}/${name}/${name}_${String(k).padStart(4, "0")}.mp4`;
        fs.mkdirSync(path.join(dir, split, name), { recursive: true });
        await encodeVideo(path.join(dir, relative), video.pixels, { width: options.size!, height: options.size!, fps });
        lines.push(`${relative} ${video.label}`);
        written++;
      }
      writeFileAtomic(path.join(dir, `${split}.txt`), `${lines.join("\n")}\n`);
    }
    writeFileAtomic(path.join(dir, "classes.txt"), `${classNames.join("\n")}\n`);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    out(formatIssue(error.issue));
    return 1;
  }
  out(`wrote ${written} videos (${classNames.length} classes: ${classNames.join(", ")}; ${options.size}x${options.size} at ${fps} fps, ${options.frames} to ${options.frames! * Math.max(...LENGTHS)} frames) to ${dir}/`);
  out(`  class folders train/<class>/, val/<class>/ and lists train.txt, val.txt, classes.txt`);
  return 0;
}
