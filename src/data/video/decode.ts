/**
 * Decodes chosen frames of a video file with ffmpeg, streamed: ffmpeg seeks to the first wanted
 * frame (`-ss` before `-i`: accurate seeking decodes from the previous keyframe and drops what
 * precedes the position), a `select` filter keeps the wanted frames, `scale` resizes them, and
 * raw RGB frames arrive on a pipe one at a time; ffmpeg stops after the last wanted frame. Only
 * the wanted frames are ever held in memory. Frame n is the one at n / fps seconds (constant
 * frame rate, as the probe reports it); a variable-rate video is read from its start instead.
 */
import { spawn } from "node:child_process";
import { DataError } from "../issues.js";
import type { VideoMeta } from "../sampling.js";
import { ffmpegPath, lastError } from "./ffmpeg.js";

/**
 * ffmpeg's `select` expression for sorted frame numbers: one `between` per run of consecutive
 * frames (an `eq` per frame overflows ffmpeg's expression evaluator past about a hundred frames).
 */
export function selectRuns(frames: readonly number[]): string {
  const terms: string[] = [];
  for (let i = 0; i < frames.length; ) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j]! + 1) j++;
    terms.push(i === j ? `eq(n\\,${frames[i]})` : `between(n\\,${frames[i]}\\,${frames[j]})`);
    i = j + 1;
  }
  return terms.join("+");
}

/** Frames `indices` (any order, repeats allowed) of a video as RGB bytes [height, width, 3], by index. */
export function decodeFrames(file: string, meta: VideoMeta, indices: readonly number[], width: number, height: number): Promise<Map<number, Uint8Array>> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const first = wanted[0]!;
  const last = wanted[wanted.length - 1]!;
  if (first < 0 || last >= meta.frames)
    return Promise.reject(new DataError("VN093", file, `frames ${first}..${last} requested of a ${meta.frames}-frame video`));
  // Half a frame early, so rounding in timestamps can never drop the first wanted frame. A
  // variable-rate video's frame n is not at n / fps seconds: it is decoded from the start, frames counted.
  const seekable = first > 0 && meta.variableRate !== true;
  const origin = seekable ? first : 0;
  const seek = seekable ? ["-ss", ((first - 0.5) / meta.fps).toFixed(6)] : [];
  const filters = [`select='${selectRuns(wanted.map((i) => i - origin))}'`];
  if (width !== meta.width || height !== meta.height) filters.push(`scale=${width}:${height}:flags=bilinear`);
  const args = [
    "-hide_banner",
    "-nostdin",
    "-threads",
    "1",
    ...seek,
    "-i",
    file,
    "-map",
    "0:v:0",
    "-vf",
    filters.join(","),
    "-vsync",
    "0",
    "-frames:v",
    String(wanted.length),
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ];
  const frameBytes = width * height * 3;
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
    const frames = new Map<number, Uint8Array>();
    let current = new Uint8Array(frameBytes);
    let filled = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length && frames.size < wanted.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        current.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          frames.set(wanted[frames.size]!, current);
          current = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      // Only the tail explains a failure.
      stderr = (stderr + chunk.toString("utf8")).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (frames.size === wanted.length) resolve(frames);
      else
        reject(
          new DataError(
            "VN093",
            file,
            `decoded ${frames.size} of ${wanted.length} frames (${first}..${last}): ${code === 0 ? "the video ended before them" : lastError(stderr, file)}`,
          ),
        );
    });
  });
}
